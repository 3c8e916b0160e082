//! Reading `.tf` files into a [`Config`]: parsing with hcl-rs, checking the block structure
//! Terraform's language has (which blocks, which labels, which meta-arguments), and keeping the
//! location of everything for later diagnostics.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use hcl::edit::structure::{Attribute, Block, BlockLabel, Body, Structure};
use hcl::edit::Span;

use super::{AttrExpr, BlockExpr, BodyExpr, Config, DependsOn, EncryptionSettings, KeySource, Local, Output, ProviderBlock, Resource, Variable};
use super::{Check, Condition, Import};
use crate::addrs::{ConfigResource, ModulePath, ProviderConfig, Target};
use crate::diag::{suggestion, Diagnostic, Diagnostics, LineIndex, Location, Result};

const TOP_LEVEL_BLOCKS: [&str; 13] = ["resource", "data", "variable", "locals", "output", "provider", "terraform", "strata", "moved", "removed", "module", "check", "import"];

/// Loads every `*.tf` file of `dir`, in name order, and the modules they call.
pub fn load_dir(dir: &Path) -> Result<Config> {
    let mut config = load_module(dir, dir, ModulePath::root())?;
    super::modules::load_children(&mut config, &super::installed::Installed::new(dir))?;
    Ok(config)
}

/// Loads the `*.tf` files of the module at `path`, in `dir`; not the modules it calls.
pub(super) fn load_module(root_dir: &Path, dir: &Path, path: ModulePath) -> Result<Config> {
    let files = tf_files(dir)?;
    if files.is_empty() {
        let hint = if path.is_root() { "run strata in the directory that holds your .tf files, or pass -chdir DIR" } else { "point the module's source at a directory of .tf files" };
        return Err(Diagnostic::error(format!("no configuration files (*.tf) in {}", dir.display())).hint(hint).into());
    }
    let config = Config { dir: dir.to_path_buf(), root_dir: root_dir.to_path_buf(), path, ..Config::default() };
    let mut loader = Loader { config, errors: Diagnostics::default(), settings_only: false };
    for path in files {
        loader.load_file(&path);
    }
    if loader.errors.has_errors() {
        return Err(loader.errors);
    }
    super::blocks::check_removed(&loader.config)?;
    Ok(loader.config)
}

/// The `*.tf` files of `dir`, in name order.
pub(crate) fn tf_files(dir: &Path) -> Result<Vec<PathBuf>> {
    let entries = std::fs::read_dir(dir).map_err(|err| {
        Diagnostic::error(format!("cannot read the configuration directory {}: {err}", dir.display()))
            .hint("check the path given to -chdir")
    })?;
    let mut files: Vec<PathBuf> = entries
        .filter_map(|entry| entry.ok().map(|e| e.path()))
        .filter(|path| path.extension().is_some_and(|ext| ext == "tf") && path.is_file())
        .collect();
    files.sort();
    Ok(files)
}

/// Only the `strata` block's settings (state path, encryption, backend) of every `*.tf` file of
/// `dir`, for the commands that need only the state (`state list`, `output`, `show`): the rest
/// of the configuration is parsed but not loaded or checked, as Terraform's state commands do.
pub fn load_settings(dir: &Path) -> Result<super::Settings> {
    let mut loader = Loader { config: Config { dir: dir.to_path_buf(), root_dir: dir.to_path_buf(), ..Config::default() }, errors: Diagnostics::default(), settings_only: true };
    for path in tf_files(dir)? {
        loader.load_file(&path);
    }
    if loader.errors.has_errors() {
        return Err(loader.errors);
    }
    Ok(loader.config.settings)
}

struct Loader {
    config: Config,
    errors: Diagnostics,
    /// Load the `strata` and `terraform` blocks only (see `load_settings`).
    settings_only: bool,
}

/// Where a piece of one file is, turned into locations.
struct FileContext {
    file: Arc<Path>,
    text: Arc<str>,
    lines: LineIndex,
}

impl FileContext {
    fn location(&self, span: Option<std::ops::Range<usize>>) -> Location {
        self.lines.location(&self.file, &self.text, span.map_or(0, |s| s.start))
    }
}

impl Loader {
    fn load_file(&mut self, path: &Path) {
        let display_path = path.strip_prefix(&self.config.root_dir).unwrap_or(path);
        let text: Arc<str> = match std::fs::read_to_string(path) {
            Ok(text) => Arc::from(text),
            Err(err) => {
                self.errors.push(Diagnostic::error(format!("cannot read {}: {err}", path.display())));
                return;
            }
        };
        self.config.sources.insert(display_path, Arc::clone(&text));
        let ctx = FileContext { file: Arc::from(display_path), lines: LineIndex::new(&text), text: Arc::clone(&text) };
        match hcl::edit::parser::parse_body(&text) {
            Ok(body) => self.load_body(&ctx, &body),
            Err(err) => self.errors.push(parse_error(&ctx, &err)),
        }
    }

    fn load_body(&mut self, ctx: &FileContext, body: &Body) {
        for structure in body.iter() {
            match structure {
                Structure::Attribute(attr) => self.errors.push(
                    Diagnostic::error(format!("unexpected attribute \"{}\" at the top level", attr.key.as_str()))
                        .at(Some(&ctx.location(attr.span())))
                        .hint("attributes belong inside a block such as resource, variable or locals"),
                ),
                Structure::Block(block) if self.settings_only && !matches!(block.ident.as_str(), "strata" | "terraform") => {}
                Structure::Block(block) => {
                    if let Err(errors) = self.load_block(ctx, block) {
                        self.errors.extend(errors);
                    }
                }
            }
        }
    }

    fn load_block(&mut self, ctx: &FileContext, block: &Block) -> Result<()> {
        let location = ctx.location(block.span());
        let kind = block.ident.as_str();
        let labels: Vec<String> = block.labels.iter().map(label_text).collect();
        match kind {
            "resource" | "data" => {
                let [type_name, name] = expect_labels::<2>(kind, &labels, &location, "TYPE\" \"NAME")?;
                let address = if kind == "resource" { ConfigResource::managed(&type_name, &name) } else { ConfigResource::data(&type_name, &name) };
                self.add_resource(ctx, address, block, location)
            }
            "variable" => {
                let [name] = expect_labels::<1>(kind, &labels, &location, "NAME")?;
                let variable = variable(ctx, name.clone(), &block.body, location.clone())?;
                insert_unique(&mut self.config.variables, name, variable, "variable", &location)
            }
            "output" => {
                let [name] = expect_labels::<1>(kind, &labels, &location, "NAME")?;
                let output = output(ctx, name.clone(), &block.body, location.clone())?;
                insert_unique(&mut self.config.outputs, name, output, "output", &location)
            }
            "provider" if !self.config.path.is_root() => Err(Diagnostic::error(format!("a provider block in {}", self.config.path))
                .at(Some(&location))
                .detail("strata configures providers in the root module only; every module uses them")
                .hint("move this provider block to the root module")
                .into()),
            "strata" if !self.config.path.is_root() => Err(Diagnostic::error(format!("a strata block in {}", self.config.path))
                .at(Some(&location))
                .detail("the strata block's settings (state, encryption, backend) are the root module's")
                .hint("move it to the root module")
                .into()),
            "module" => {
                let [name] = expect_labels::<1>(kind, &labels, &location, "NAME")?;
                let call = super::modules::module_call(name.clone(), body_expr(ctx, &block.body, location.clone())?, location.clone())?;
                insert_unique(&mut self.config.modules, name, call, "module call", &location)
            }
            "provider" => {
                let [name] = expect_labels::<1>(kind, &labels, &location, "NAME")?;
                let mut body = body_expr(ctx, &block.body, location.clone())?;
                let alias = body.attributes.remove("alias").map(|attr| literal_string(&attr, "alias")).transpose()?;
                let key = ProviderConfig { name, alias };
                if let Some(previous) = self.config.providers.get(&key) {
                    let hint = if key.alias.is_none() { format!("give one of them an alias: alias = \"west\", then provider = {}.west on its resources", key.name) } else { "give each an alias of its own".to_owned() };
                    return Err(Diagnostic::error(format!("duplicate provider configuration {key}"))
                        .at(Some(&location))
                        .detail(format!("it is already declared at {}", previous.body.location))
                        .hint(hint)
                        .into());
                }
                self.config.providers.insert(key, ProviderBlock { body });
                Ok(())
            }
            "locals" => {
                expect_labels::<0>(kind, &labels, &location, "")?;
                self.add_locals(ctx, &block.body)
            }
            "terraform" => {
                expect_labels::<0>(kind, &labels, &location, "")?;
                super::terraform_block::read(&body_expr(ctx, &block.body, location)?, &mut self.config.requirements)
            }
            "strata" => {
                expect_labels::<0>(kind, &labels, &location, "")?;
                self.load_settings(ctx, &block.body)
            }
            "moved" => {
                expect_labels::<0>(kind, &labels, &location, "")?;
                let moved = super::guards::moved(&body_expr(ctx, &block.body, location.clone())?, location)?;
                self.config.moves.push(moved);
                Ok(())
            }
            "removed" if !self.config.path.is_root() => Err(Diagnostic::error(format!("a removed block in {} is not supported yet", self.config.path))
                .at(Some(&location))
                .hint("declare it in the root module, with from = module.NAME.TYPE.NAME")
                .into()),
            "removed" => {
                expect_labels::<0>(kind, &labels, &location, "")?;
                let removed = super::blocks::removed(&body_expr(ctx, &block.body, location.clone())?, location)?;
                self.config.removed.push(removed);
                Ok(())
            }
            "check" => {
                let [name] = expect_labels::<1>(kind, &labels, &location, "NAME")?;
                let check = check_block(ctx, &block.body, location.clone())?;
                insert_unique(&mut self.config.checks, name, check, "check block", &location)
            }
            "import" if !self.config.path.is_root() => Err(Diagnostic::error(format!("an import block in {}", self.config.path))
                .at(Some(&location))
                .detail("import blocks belong in the root module, as in Terraform; `to` may name a resource inside a module")
                .hint("move it to the root module")
                .into()),
            "import" => {
                expect_labels::<0>(kind, &labels, &location, "")?;
                let import = import_block(&body_expr(ctx, &block.body, location.clone())?, location)?;
                self.config.imports.push(import);
                Ok(())
            }
            other => Err(Diagnostic::error(format!("unknown block type \"{other}\""))
                .at(Some(&location))
                .hint(suggestion(other, TOP_LEVEL_BLOCKS))
                .into()),
        }
    }

    fn add_resource(&mut self, ctx: &FileContext, address: ConfigResource, block: &Block, location: Location) -> Result<()> {
        let mut body = body_expr(ctx, &block.body, location.clone())?;
        let lifecycle = if address.mode == crate::addrs::Mode::Managed { super::guards::take_lifecycle(&mut body)? } else { None };
        let expansion = super::Expansion::take(&mut body)?;
        reject_unsupported_meta(&body)?;
        let depends_on = match body.attributes.remove("depends_on") {
            Some(attr) => addresses(&attr)?,
            None => vec![],
        };
        let provider = body.attributes.remove("provider").map(|attr| resource_provider(&attr, &address)).transpose()?;
        let resource = Resource { body, expansion, depends_on, provider, lifecycle, location: location.clone() };
        if let Some(previous) = self.config.resources.get(&address) {
            return Err(Diagnostic::error(format!("duplicate resource {address}"))
                .at(Some(&location))
                .detail(format!("it is already declared at {}", previous.location))
                .hint("give each resource a unique name within its type")
                .into());
        }
        self.config.resources.insert(address, resource);
        Ok(())
    }

    fn add_locals(&mut self, ctx: &FileContext, body: &Body) -> Result<()> {
        let body = body_expr(ctx, body, ctx.location(None))?;
        if let Some(block) = body.blocks.first() {
            return Err(Diagnostic::error("locals may only hold attributes").at(Some(&block.location)).into());
        }
        for (name, value) in body.attributes {
            let location = value.location.clone();
            insert_unique(&mut self.config.locals, name, Local { value }, "local value", &location)?;
        }
        Ok(())
    }

    fn load_settings(&mut self, ctx: &FileContext, body: &Body) -> Result<()> {
        let body = body_expr(ctx, body, ctx.location(None))?;
        check_names(&body, &["state_path"], &["encryption", "backend"], "strata")?;
        if let Some(attr) = body.attributes.get("state_path") {
            self.config.settings.state_path = Some(literal_string(attr, "state_path")?);
        }
        for block in body.blocks.iter().filter(|b| b.kind == "encryption") {
            if self.config.settings.encryption.is_some() {
                return Err(Diagnostic::error("the encryption block is set twice").at(Some(&block.location)).hint("keep one").into());
            }
            self.config.settings.encryption = Some(encryption_settings(block)?);
        }
        for block in body.blocks.iter().filter(|b| b.kind == "backend") {
            if self.config.settings.backend.is_some() {
                return Err(Diagnostic::error("the backend block is set twice").at(Some(&block.location)).hint("keep one").into());
            }
            if let Some(attr) = body.attributes.get("state_path") {
                return Err(Diagnostic::error("state_path applies to the local state file, not to a backend")
                    .at(Some(&attr.location))
                    .hint("remove state_path, or remove the backend block to keep the state in a local file")
                    .into());
            }
            self.config.settings.backend = Some(super::backend_block::backend_settings(block)?);
        }
        Ok(())
    }
}

/// `encryption { key_env = "NAME" }` or `encryption { passphrase_env = "NAME" }`: exactly one.
fn encryption_settings(block: &BlockExpr) -> Result<EncryptionSettings> {
    check_names(&block.body, &["key_env", "passphrase_env"], &[], "the encryption block")?;
    let attrs = &block.body.attributes;
    let key_source = match (attrs.get("key_env"), attrs.get("passphrase_env")) {
        (Some(attr), None) => KeySource::KeyEnv(env_name(attr, "key_env", &block.location)?),
        (None, Some(attr)) => KeySource::PassphraseEnv(env_name(attr, "passphrase_env", &block.location)?),
        _ => {
            return Err(Diagnostic::error("the encryption block needs exactly one of key_env and passphrase_env")
                .at(Some(&block.location))
                .hint("write encryption { key_env = \"STRATA_STATE_KEY\" } (a 32-byte key as base64 or hex) or passphrase_env = \"NAME\"")
                .into())
        }
    };
    Ok(EncryptionSettings { key_source, location: block.location.clone() })
}

/// The name of an environment variable, written literally; never the secret itself. A value that
/// is not a name may be the key pasted in by mistake, so the error points at the block, whose
/// line the message shows, not at the attribute, and never repeats the value.
fn env_name(attr: &AttrExpr, name: &str, block: &Location) -> Result<String> {
    let value = literal_string(attr, name)?;
    let is_name = value.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_') && value.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    // Names have words; a 40-character run without an underscore is a key (hex or base64).
    let looks_like_a_key = value.len() >= 40 && !value.contains('_');
    if !is_name || looks_like_a_key {
        return Err(Diagnostic::error(format!("\"{name}\" must name the environment variable that holds the secret, not hold it"))
            .at(Some(block))
            .detail("an environment variable name: a letter or _, then letters, digits and _")
            .hint("export the key in an environment variable and write its name here, e.g. \"STRATA_STATE_KEY\"; if the key was in this file, make a new one")
            .into());
    }
    Ok(value)
}

fn label_text(label: &BlockLabel) -> String {
    match label {
        BlockLabel::Ident(ident) => ident.as_str().to_owned(),
        BlockLabel::String(string) => string.as_str().to_owned(),
    }
}

fn parse_error(ctx: &FileContext, err: &hcl::edit::parser::Error) -> Diagnostic {
    let location = Location { file: Arc::clone(&ctx.file), line: err.location().line(), column: err.location().column() };
    Diagnostic::error(format!("invalid HCL syntax: {}", err.message()))
        .at(Some(&location))
        .hint("fix the syntax at the marked position; `strata fmt` only works on files that parse")
}

fn expect_labels<const N: usize>(kind: &str, labels: &[String], location: &Location, shape: &str) -> Result<[String; N]> {
    let fixed: std::result::Result<[String; N], _> = labels.to_vec().try_into();
    fixed.map_err(|_| {
        let expected = if N == 0 { format!("{kind} {{ ... }}") } else { format!("{kind} \"{shape}\" {{ ... }}") };
        Diagnostic::error(format!("a {kind} block takes {N} label(s), found {}", labels.len()))
            .at(Some(location))
            .hint(format!("write it as {expected}"))
            .into()
    })
}

fn insert_unique<T>(map: &mut BTreeMap<String, T>, name: String, item: T, what: &str, location: &Location) -> Result<()> {
    if map.contains_key(&name) {
        return Err(Diagnostic::error(format!("duplicate {what} \"{name}\""))
            .at(Some(location))
            .hint(format!("each {what} must have a unique name"))
            .into());
    }
    map.insert(name, item);
    Ok(())
}

/// Converts a parsed body, keeping locations and rejecting duplicate attributes.
fn body_expr(ctx: &FileContext, body: &Body, location: Location) -> Result<BodyExpr> {
    let mut attributes = BTreeMap::new();
    let mut blocks = Vec::new();
    for structure in body.iter() {
        match structure {
            Structure::Attribute(attr) => {
                let converted = attr_expr(ctx, attr);
                let name = attr.key.as_str().to_owned();
                if attributes.contains_key(&name) {
                    return Err(Diagnostic::error(format!("attribute \"{name}\" is set twice"))
                        .at(Some(&converted.location))
                        .hint("remove one of the two")
                        .into());
                }
                attributes.insert(name, converted);
            }
            Structure::Block(block) => {
                let block_location = ctx.location(block.span());
                blocks.push(BlockExpr {
                    kind: block.ident.as_str().to_owned(),
                    labels: block.labels.iter().map(label_text).collect(),
                    body: body_expr(ctx, &block.body, block_location.clone())?,
                    location: block_location,
                });
            }
        }
    }
    Ok(BodyExpr { attributes, blocks, location })
}

fn attr_expr(ctx: &FileContext, attr: &Attribute) -> AttrExpr {
    AttrExpr { expr: hcl::Expression::from(attr.value.clone()), location: ctx.location(attr.span()) }
}

/// Rejects attributes and blocks not in the given lists, naming the closest valid one.
pub(crate) fn check_names(body: &BodyExpr, attributes: &[&str], blocks: &[&str], context: &str) -> Result<()> {
    for (name, attr) in &body.attributes {
        if !attributes.contains(&name.as_str()) {
            return Err(Diagnostic::error(format!("unknown attribute \"{name}\" in {context}"))
                .at(Some(&attr.location))
                .hint(suggestion(name, attributes.iter().copied()))
                .into());
        }
    }
    for block in &body.blocks {
        if !blocks.contains(&block.kind.as_str()) {
            return Err(Diagnostic::error(format!("unknown block \"{}\" in {context}", block.kind))
                .at(Some(&block.location))
                .hint(suggestion(&block.kind, blocks.iter().copied()))
                .into());
        }
    }
    Ok(())
}

fn reject_unsupported_meta(body: &BodyExpr) -> Result<()> {
    for block in &body.blocks {
        if matches!(block.kind.as_str(), "provisioner" | "connection") {
            return Err(super::blocks::refuse_provisioner(block));
        }
        if block.kind == "lifecycle" {
            // A data source's lifecycle block is still unsupported; a resource's was taken out already.
            return Err(Diagnostic::error(format!("the \"{}\" block is not supported yet", block.kind))
                .at(Some(&block.location))
                .into());
        }
    }
    Ok(())
}

/// The `provider = aws.west` meta-argument: a configuration of the provider the type belongs to.
fn resource_provider(attr: &AttrExpr, address: &ConfigResource) -> Result<ProviderConfig> {
    match provider_reference(&attr.expr) {
        Some(provider) if provider.name == address.provider() => Ok(provider),
        Some(provider) => Err(Diagnostic::error(format!("{address} cannot use the provider {provider}"))
            .at(Some(&attr.location))
            .detail(format!("the resource type {} belongs to the {} provider", address.type_name, address.provider()))
            .hint(format!("name a configuration of {0}: provider = {0} or {0}.ALIAS", address.provider()))
            .into()),
        None => Err(Diagnostic::error("provider must name a provider configuration")
            .at(Some(&attr.location))
            .hint("write it as a reference, without quotes: provider = aws.west")
            .into()),
    }
}

fn variable(ctx: &FileContext, name: String, body: &Body, location: Location) -> Result<Variable> {
    let body = body_expr(ctx, body, location.clone())?;
    check_names(&body, &["type", "default", "description", "sensitive", "nullable", "ephemeral"], &["validation"], &format!("variable \"{name}\""))?;
    let validations = body.blocks.iter().map(condition).collect::<Result<Vec<_>>>()?;
    Ok(Variable {
        name,
        type_expr: body.attributes.get("type").cloned(),
        default: body.attributes.get("default").cloned(),
        description: body.attributes.get("description").map(|a| literal_string(a, "description")).transpose()?,
        sensitive: optional_literal_bool(&body, "sensitive")?.unwrap_or(false),
        ephemeral: optional_literal_bool(&body, "ephemeral")?.unwrap_or(false),
        nullable: optional_literal_bool(&body, "nullable")?.unwrap_or(true),
        validations,
        location,
    })
}

/// A `validation`, `precondition`, `postcondition` or `assert` block.
pub(super) fn condition(block: &BlockExpr) -> Result<Condition> {
    let what = format!("a {} block", block.kind);
    check_names(&block.body, &["condition", "error_message"], &[], &what)?;
    let get = |key: &str| {
        block.body.attributes.get(key).cloned().ok_or_else(|| Diagnostics::from(Diagnostic::error(format!("{what} needs \"{key}\"")).at(Some(&block.location))))
    };
    Ok(Condition { condition: get("condition")?, error_message: get("error_message")? })
}

/// `import { to = ADDRESS  id = "..."  for_each = ... }`.
fn import_block(body: &BodyExpr, location: Location) -> Result<Import> {
    check_names(body, &["to", "id", "for_each", "provider"], &[], "an import block")?;
    let needs = |name: &str, hint: &str| body.attributes.get(name).cloned().ok_or_else(|| Diagnostics::from(Diagnostic::error(format!("an import block needs \"{name}\"")).at(Some(&location)).hint(hint.to_owned())));
    let to = needs("to", "write to = postgres_table.events (the address to import into, without quotes)")?;
    let id = needs("id", "write id = \"public.events\" (the id the resource type's import takes)")?;
    if body.attributes.contains_key("provider") {
        return Err(Diagnostic::error("an import block's provider argument is not supported").at(Some(&location)).hint("the imported resource's own provider argument decides").into());
    }
    Ok(Import { to, id, for_each: body.attributes.get("for_each").cloned(), location })
}

/// `check "NAME" { assert { ... } ... }`.
fn check_block(ctx: &FileContext, body: &Body, location: Location) -> Result<Check> {
    let body = body_expr(ctx, body, location.clone())?;
    if let Some(data) = body.blocks.iter().find(|b| b.kind == "data") {
        return Err(Diagnostic::error("data sources scoped to a check block are not supported yet")
            .at(Some(&data.location))
            .hint("declare the data source at the top level and refer to it from the assertion")
            .into());
    }
    check_names(&body, &[], &["assert"], "a check block")?;
    if body.blocks.is_empty() {
        return Err(Diagnostic::error("a check block needs at least one assert block").at(Some(&location)).hint("add assert { condition = ...  error_message = \"...\" }").into());
    }
    Ok(Check { asserts: body.blocks.iter().map(condition).collect::<Result<Vec<_>>>()?, location })
}

fn output(ctx: &FileContext, name: String, body: &Body, location: Location) -> Result<Output> {
    let body = body_expr(ctx, body, location.clone())?;
    check_names(&body, &["value", "sensitive", "description", "depends_on"], &["precondition"], &format!("output \"{name}\""))?;
    let value = body.attributes.get("value").cloned().ok_or_else(|| {
        Diagnostic::error(format!("output \"{name}\" needs a value")).at(Some(&location)).hint("add value = <expression>")
    })?;
    if let Some(description) = body.attributes.get("description") {
        literal_string(description, "description")?;
    }
    Ok(Output {
        value,
        sensitive: optional_literal_bool(&body, "sensitive")?.unwrap_or(false),
        preconditions: body.blocks.iter().map(condition).collect::<Result<Vec<_>>>()?,
        depends_on: body.attributes.get("depends_on").map(addresses).transpose()?.unwrap_or_default(),
        location,
    })
}

pub(super) fn literal_string(attr: &AttrExpr, name: &str) -> Result<String> {
    match &attr.expr {
        hcl::Expression::String(s) => Ok(s.clone()),
        hcl::Expression::TemplateExpr(t) => match t.as_ref() {
            hcl::TemplateExpr::QuotedString(s) if !s.contains("${") => Ok(s.clone()),
            // A heredoc without interpolation, as long descriptions are written.
            hcl::TemplateExpr::Heredoc(heredoc) if !heredoc.template.contains("${") && !heredoc.template.contains("%{") => Ok(crate::eval::template_text(t)),
            _ => Err(not_literal(attr, name, "a string")),
        },
        _ => Err(not_literal(attr, name, "a string")),
    }
}

fn optional_literal_bool(body: &BodyExpr, name: &str) -> Result<Option<bool>> {
    body.attributes
        .get(name)
        .map(|attr| match attr.expr {
            hcl::Expression::Bool(b) => Ok(b),
            _ => Err(not_literal(attr, name, "true or false")),
        })
        .transpose()
}

fn not_literal(attr: &AttrExpr, name: &str, expected: &str) -> Diagnostics {
    Diagnostic::error(format!("\"{name}\" must be {expected} written literally"))
        .at(Some(&attr.location))
        .hint("this setting is read before any expression is evaluated, so it cannot use references or functions")
        .into()
}

/// Reads `[aws_db_instance.main, data.aws_vpc.default, module.vpc]`: whole resources or module
/// calls, as Terraform wants them (an instance key is an error, not dropped: the dependency is on
/// every instance anyway).
pub(super) fn addresses(attr: &AttrExpr) -> Result<Vec<DependsOn>> {
    let items = match &attr.expr {
        hcl::Expression::Array(items) => items,
        _ => return Err(bad_depends_on(attr)),
    };
    let whole = |item: &hcl::Expression| match crate::addrs::target_of(item) {
        Ok(Target::Resource(resource)) if resource.module.is_root() => Ok(DependsOn::Resource(resource.resource)),
        Ok(Target::Module(module)) if module.0.len() == 1 && module.0[0].key == crate::addrs::InstanceKey::None => Ok(DependsOn::Module(module.0[0].name.clone())),
        Ok(Target::Instance(instance)) => Err(Diagnostic::error(format!("depends_on names the instance {instance}"))
            .at(Some(&attr.location))
            .hint(format!("depend on the whole resource: {}", instance.resource()))
            .into()),
        _ => Err(bad_depends_on(attr)),
    };
    items.iter().map(whole).collect()
}

/// `providers = { aws = aws.west, aws.dst = aws.east }` in a module call: which of the caller's
/// provider configurations each of the module's is.
pub(super) fn providers_argument(attr: &AttrExpr) -> Result<BTreeMap<ProviderConfig, ProviderConfig>> {
    let bad = || -> Diagnostics {
        Diagnostic::error("providers must map the module's provider configurations to the caller's")
            .at(Some(&attr.location))
            .hint("write providers = { aws = aws.west, aws.replica = aws.east }")
            .into()
    };
    let hcl::Expression::Object(entries) = &attr.expr else { return Err(bad()) };
    let mut mapping = BTreeMap::new();
    for (key, value) in entries {
        let key = match key {
            hcl::ObjectKey::Identifier(ident) => Some(ProviderConfig::default_of(ident.as_str())),
            hcl::ObjectKey::Expression(expr) => provider_reference(expr),
            _ => None,
        };
        let (Some(key), Some(value)) = (key, provider_reference(value)) else { return Err(bad()) };
        mapping.insert(key, value);
    }
    Ok(mapping)
}

/// `aws` or `aws.west` written as a reference (the `provider` meta-argument, `providers` entries).
pub(super) fn provider_reference(expr: &hcl::Expression) -> Option<ProviderConfig> {
    match expr {
        hcl::Expression::Variable(name) => Some(ProviderConfig::default_of(name.as_str())),
        hcl::Expression::Traversal(traversal) => match (&traversal.expr, traversal.operators.as_slice()) {
            (hcl::Expression::Variable(name), [hcl::expr::TraversalOperator::GetAttr(alias)]) => Some(ProviderConfig { name: name.as_str().to_owned(), alias: Some(alias.as_str().to_owned()) }),
            _ => None,
        },
        _ => None,
    }
}

fn bad_depends_on(attr: &AttrExpr) -> Diagnostics {
    Diagnostic::error("depends_on must be a list of resource addresses")
        .at(Some(&attr.location))
        .hint("write depends_on = [postgres_table.users, data.aws_vpc.default]")
        .into()
}
