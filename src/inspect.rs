//! `strata inspect` as data: a provider's [`Inspection`] of what is live, written as a strata
//! configuration (one `.tf` file per namespace, resources named after the objects, references
//! where one object names another) and `imports.tf` with an `import` block for every object.
//!
//! Owns naming resources, turning values into HCL and choosing references. It knows nothing of
//! SQL or of any provider: what an object is comes from its provider's schema.

use std::collections::{BTreeMap, BTreeSet};

use globset::{Glob, GlobSet, GlobSetBuilder};
use strata_provider_sdk::{Block, Inspected, Inspection, Nesting, ProviderSchema, Value};

use crate::diag::{Diagnostic, Result};

/// The file holding the import blocks.
pub const IMPORTS_FILE: &str = "imports.tf";

/// Patterns (`-exclude`) of objects to leave out, matched against `namespace.name` and the
/// import id.
pub fn exclusions(patterns: &[String]) -> Result<GlobSet> {
    let mut set = GlobSetBuilder::new();
    for pattern in patterns {
        let glob = Glob::new(pattern).map_err(|err| Diagnostic::error(format!("-exclude \"{pattern}\" is not a pattern: {err}")).hint("use * and ? wildcards, such as public.tmp_* or *.audit_logs_20*"))?;
        set.add(glob);
    }
    set.build().map_err(|err| Diagnostic::error(format!("the -exclude patterns cannot be used: {err}")).into())
}

/// The files to write, by file name: one per namespace, and [`IMPORTS_FILE`].
pub fn configuration(inspection: &Inspection, schema: &ProviderSchema, excluded: &GlobSet) -> Result<BTreeMap<String, String>> {
    let objects: Vec<&Inspected> = inspection.objects.iter().filter(|o| !is_excluded(o, excluded)).collect();
    let labels = labels(&objects);
    let references: BTreeMap<&str, String> = objects.iter().zip(&labels).map(|(o, label)| (o.import_id.as_str(), format!("{}.{label}.id", o.type_name))).collect();
    let mut files: BTreeMap<String, String> = BTreeMap::new();
    for (namespace, what) in &inspection.unsupported {
        files.entry(file_name(namespace)).or_default().push_str(&format!("# not declared (no resource type manages it): {}\n", what.replace('\n', " ")));
    }
    let mut imports = String::new();
    for (object, label) in objects.iter().zip(&labels) {
        let resource = schema.resources.get(object.type_name.as_str()).ok_or_else(|| Diagnostic::error(format!("the provider inspected a {} but has no such resource type", object.type_name)))?;
        let others = |text: &str| references.get(text).filter(|_| text != object.import_id).cloned();
        let mut body = String::new();
        write_block(&mut body, &resource.block, &object.value, &others);
        // Only what no argument refers to already.
        let needs: Vec<String> = object.depends_on.iter().filter_map(|id| others(id)).filter(|r| !body.contains(r.as_str())).filter_map(|r| r.strip_suffix(".id").map(str::to_owned)).collect();
        if !needs.is_empty() {
            body.push_str(&format!("\ndepends_on = [{}]\n", needs.join(", ")));
        }
        let file = files.entry(file_name(&object.namespace)).or_default();
        file.push_str(&format!("\nresource \"{}\" \"{label}\" {{\n{body}}}\n", object.type_name));
        imports.push_str(&format!("\nimport {{\n  to = {}.{label}\n  id = {}\n}}\n", object.type_name, quoted(&object.import_id)));
    }
    files.insert(IMPORTS_FILE.to_owned(), imports);
    files.into_iter().map(|(name, text)| Ok((name.clone(), formatted(&name, &text)?))).collect()
}

/// Whether an `-exclude` pattern matches `object`'s `namespace.name` or its import id.
pub fn is_excluded(object: &Inspected, excluded: &GlobSet) -> bool {
    excluded.is_match(format!("{}.{}", object.namespace, object.name)) || excluded.is_match(&object.import_id)
}

fn file_name(namespace: &str) -> String {
    format!("{}.tf", label_of(namespace))
}

fn formatted(name: &str, text: &str) -> Result<String> {
    crate::format::format_source(text.trim_start()).map_err(|err| Diagnostic::error(format!("inspect made {name}, which does not parse ({err}); nothing was written")).hint("report this as a bug, with the object that caused it").into())
}

/// A resource name for each object, made from its name, unique within its type: an object whose
/// name another of its type has too is named with its namespace in front.
fn labels(objects: &[&Inspected]) -> Vec<String> {
    let mut count: BTreeMap<(&str, String), usize> = BTreeMap::new();
    for object in objects {
        *count.entry((object.type_name.as_str(), label_of(&object.name))).or_default() += 1;
    }
    let mut used: BTreeSet<(String, String)> = BTreeSet::new();
    objects
        .iter()
        .map(|object| {
            let plain = label_of(&object.name);
            let base = match count[&(object.type_name.as_str(), plain.clone())] {
                1 => plain,
                _ => label_of(&format!("{}_{}", object.namespace, object.name)),
            };
            let mut label = base.clone();
            let mut n = 2;
            while !used.insert((object.type_name.clone(), label.clone())) {
                label = format!("{base}_{n}");
                n += 1;
            }
            label
        })
        .collect()
}

/// `name` as a resource name: letters, digits, `_` and `-`, starting with a letter or `_`.
fn label_of(name: &str) -> String {
    let mut label: String = name.chars().map(|c| if c.is_ascii_alphanumeric() || c == '_' || c == '-' { c } else { '_' }).collect();
    if !label.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_') {
        label.insert(0, '_');
    }
    label
}

/// The arguments of `value` that `block` lets a configuration set, then its nested blocks.
fn write_block(out: &mut String, block: &Block, value: &Value, references: &dyn Fn(&str) -> Option<String>) {
    let settable = block.attributes.iter().filter(|(_, a)| a.optional || a.required);
    let mut names: Vec<&str> = settable.map(|(name, _)| *name).collect();
    // The object's own name first, as people write them.
    names.sort_by_key(|name| (!["name", "schema"].contains(name), *name));
    for name in names {
        match value.get(name) {
            None | Some(Value::Null) => {}
            Some(Value::List(items)) if items.is_empty() && !block.attributes[name].required => {}
            Some(item) => out.push_str(&format!("{name} = {}\n", expression(item, references))),
        }
    }
    for (name, nested) in &block.blocks {
        let items = match (value.get(name), &nested.nesting) {
            (Some(Value::List(items)), _) => items.clone(),
            (Some(item @ Value::Object(_)), Nesting::Single) => vec![item.clone()],
            _ => continue,
        };
        for item in items {
            let mut inner = String::new();
            write_block(&mut inner, &nested.block, &item, references);
            out.push_str(&format!("\n{name} {{\n{inner}}}\n"));
        }
    }
}

/// A value as an HCL expression; a string naming another inspected object becomes a reference to it.
fn expression(value: &Value, references: &dyn Fn(&str) -> Option<String>) -> String {
    match value {
        Value::String(text) => references(text).unwrap_or_else(|| string(text)),
        Value::List(items) => format!("[{}]", items.iter().map(|item| expression(item, references)).collect::<Vec<_>>().join(", ")),
        Value::Object(fields) => {
            let entries: Vec<String> = fields.iter().map(|(key, item)| format!("{} = {}", object_key(key), expression(item, references))).collect();
            format!("{{ {} }}", entries.join(", "))
        }
        Value::Null | Value::Unknown => "null".to_owned(),
        other => other.to_json().to_string(),
    }
}

fn object_key(key: &str) -> String {
    if label_of(key) == key {
        key.to_owned()
    } else {
        quoted(key)
    }
}

/// A string as HCL: a heredoc when it is whole lines (SQL bodies and queries read as written),
/// else a quoted string. Template sequences are escaped in both.
fn string(text: &str) -> String {
    let escaped = text.replace("${", "$${").replace("%{", "%%{");
    let delimiter = (0..).map(|n| if n == 0 { "SQL".to_owned() } else { format!("SQL{n}") }).find(|d| !escaped.lines().any(|line| line.trim() == d)).unwrap_or_default();
    if escaped.contains('\n') && escaped.ends_with('\n') && !escaped.contains('\r') {
        return format!("<<{delimiter}\n{escaped}{delimiter}");
    }
    quoted(text)
}

fn quoted(text: &str) -> String {
    let mut out = String::from("\"");
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c => out.push(c),
        }
    }
    out.push('"');
    out.replace("${", "$${").replace("%{", "%%{")
}

#[cfg(test)]
mod tests {
    use super::*;
    use strata_provider_sdk::{Attribute, NestedBlock, ResourceSchema, Type};

    fn schema() -> ProviderSchema {
        let column = Block::new().attribute("name", Attribute::required(Type::String)).attribute("type", Attribute::required(Type::String));
        let table = Block::new()
            .attribute("name", Attribute::required(Type::String))
            .attribute("schema", Attribute::optional_computed(Type::String))
            .attribute("comment", Attribute::optional(Type::String))
            .attribute("id", Attribute::computed(Type::String))
            .block("column", NestedBlock::list(column));
        let index = Block::new().attribute("name", Attribute::required(Type::String)).attribute("table", Attribute::required(Type::String));
        let mut schema = ProviderSchema::default();
        schema.resources.insert("postgres_table", ResourceSchema { periodic: false, description: "", block: table });
        schema.resources.insert("postgres_index", ResourceSchema { periodic: false, description: "", block: index });
        schema
    }

    fn object(type_name: &str, namespace: &str, name: &str, value: Value) -> Inspected {
        Inspected { type_name: type_name.into(), name: name.into(), namespace: namespace.into(), import_id: format!("{namespace}.{name}"), value, depends_on: vec![] }
    }

    #[test]
    fn objects_become_resources_with_references_and_import_blocks() {
        let column = Value::object([("name", Value::from("id")), ("type", Value::from("bigint"))]);
        let users = Value::object([("name", Value::from("users")), ("schema", Value::from("public")), ("comment", Value::from("who \"signs\" in ${x}")), ("id", Value::from("public.users")), ("column", Value::List(vec![column]))]);
        let audit_users = Value::object([("name", Value::from("users")), ("schema", Value::from("audit"))]);
        let index = Value::object([("name", Value::from("users_by_id")), ("table", Value::from("public.users"))]);
        let inspection = Inspection {
            objects: vec![object("postgres_table", "public", "users", users), object("postgres_table", "audit", "users", audit_users), object("postgres_index", "public", "users_by_id", index)],
            unsupported: vec![("public".into(), "foreign table public.remote".into())],
        };
        let files = configuration(&inspection, &schema(), &exclusions(&[]).unwrap()).unwrap();
        assert_eq!(files.keys().collect::<Vec<_>>(), ["audit.tf", "imports.tf", "public.tf"]);
        let public = &files["public.tf"];
        assert!(public.starts_with("# not declared (no resource type manages it): foreign table public.remote\n"), "{public}");
        assert!(public.contains("resource \"postgres_table\" \"public_users\" {\n  name    = \"users\"\n  schema  = \"public\"\n  comment = \"who \\\"signs\\\" in $${x}\"\n\n  column {"), "{public}");
        assert!(public.contains("table = postgres_table.public_users.id"), "{public}");
        assert!(!public.contains("id = \"public.users\""), "computed attributes are not written: {public}");
        assert!(files["imports.tf"].contains("import {\n  to = postgres_index.users_by_id\n  id = \"public.users_by_id\"\n}"), "{}", files["imports.tf"]);
    }

    #[test]
    fn exclusions_and_names_are_checked() {
        let inspection = Inspection { objects: vec![object("postgres_index", "public", "tmp_1", Value::object([("name", Value::from("tmp_1"))]))], unsupported: vec![] };
        let files = configuration(&inspection, &schema(), &exclusions(&["public.tmp_*".into()]).unwrap()).unwrap();
        assert!(!files.values().any(|text| text.contains("tmp_1")));
        assert!(exclusions(&["[".into()]).is_err());
        assert_eq!(label_of("2024 Q1"), "_2024_Q1");
    }

    #[test]
    fn multi_line_text_is_a_heredoc() {
        assert_eq!(string("\nBEGIN\n  RETURN NEW;\nEND;\n"), "<<SQL\n\nBEGIN\n  RETURN NEW;\nEND;\nSQL");
        assert_eq!(string("one line"), "\"one line\"");
    }
}
