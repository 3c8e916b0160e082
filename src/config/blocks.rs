//! Terraform blocks strata reads beyond resources and their guards: `removed` blocks (Terraform
//! 1.7: a resource taken out of the configuration, destroyed or only forgotten) and the refusal
//! of provisioners.
//!
//! Owns their shape and the checks that need only the configuration; what a removal plans is
//! `plan::removed`'s. It must not evaluate.

use super::load::check_names;
use super::{BlockExpr, BodyExpr, Config};
use crate::addrs::{Mode, Target};
use crate::diag::{Diagnostic, Diagnostics, Location, Result};

/// `removed { from = ADDRESS  lifecycle { destroy = BOOL } }`.
#[derive(Clone, Debug)]
pub struct Removed {
    /// A resource (all its instances) or a module, never one instance.
    pub from: Target,
    /// `lifecycle.destroy`: true (the default) destroys the object as deleting its block would;
    /// false forgets it (drops it from state, leaves the live object alone).
    pub destroy: bool,
    pub location: Location,
}

/// A `provisioner` or `connection` block: refused, saying why.
pub(super) fn refuse_provisioner(block: &BlockExpr) -> Diagnostics {
    let what = if block.kind == "provisioner" {
        format!("provisioner \"{}\"", block.labels.first().map_or("", String::as_str))
    } else {
        "connection".to_owned()
    };
    Diagnostic::error(format!("{what} blocks are not supported"))
        .at(Some(&block.location))
        .detail("strata manages databases declaratively: what it changes is planned, reviewed, and applied by providers that know how to undo and guard it. A script run on create or destroy could do anything, which no plan can show and no data-loss guard can check.")
        .hint("remove the block and run the script outside strata, after strata apply (in CI, say); for schema objects, declare them as resources")
        .into()
}

/// Reads a `removed` block.
pub(super) fn removed(body: &BodyExpr, location: Location) -> Result<Removed> {
    if let Some(block) = body.blocks.iter().find(|b| matches!(b.kind.as_str(), "provisioner" | "connection")) {
        return Err(refuse_provisioner(block));
    }
    check_names(body, &["from"], &["lifecycle"], "a removed block")?;
    let attr = body.attributes.get("from").ok_or_else(|| {
        Diagnostics::from(Diagnostic::error("Missing required argument").at(Some(&location)).detail("The argument \"from\" is required, but no definition was found.").hint("write removed { from = TYPE.NAME  lifecycle { destroy = false } }"))
    })?;
    let bad = |summary: &str, detail: String| -> Diagnostics { Diagnostic::error(summary.to_owned()).at(Some(&attr.location)).detail(detail).into() };
    let from = match crate::addrs::target_of(&attr.expr) {
        Ok(Target::Instance(instance)) => {
            return Err(bad(
                "Resource instance keys not allowed",
                format!("Resource address must be a resource (e.g. \"{}\"), not a resource instance (e.g. \"{instance}\"): a removed block removes every instance of a resource.", instance.resource()),
            ))
        }
        Ok(Target::Resource(resource)) if resource.resource.mode == Mode::Data => {
            return Err(bad("Invalid removed address", format!("{resource} is a data source: data sources are never in state as objects to remove; delete the block")))
        }
        Ok(Target::Module(module)) if module.0.iter().any(|step| step.key != crate::addrs::InstanceKey::None) => {
            return Err(bad("Module instance keys not allowed", format!("Module address must be a module (e.g. \"module.{}\"), not a module instance: a removed block removes every instance of a module.", module.0[0].name)))
        }
        Ok(target) => target,
        Err(why) => return Err(bad("Invalid removed address", format!("{why}; write the address unquoted, such as postgres_table.old or module.db"))),
    };
    let mut destroy = true;
    let mut lifecycles = body.blocks.iter().filter(|b| b.kind == "lifecycle");
    if let Some(lifecycle) = lifecycles.next() {
        check_names(&lifecycle.body, &["destroy"], &[], "the lifecycle block of a removed block")?;
        if let Some(attr) = lifecycle.body.attributes.get("destroy") {
            destroy = match attr.expr {
                hcl::Expression::Bool(value) => value,
                _ => {
                    return Err(Diagnostic::error("\"destroy\" must be true or false written literally")
                        .at(Some(&attr.location))
                        .hint("whether a removal destroys the object is read before anything is evaluated")
                        .into())
                }
            };
        }
    }
    if let Some(extra) = lifecycles.next() {
        return Err(Diagnostic::error("a removed block may have only one lifecycle block").at(Some(&extra.location)).into());
    }
    Ok(Removed { from, destroy, location })
}

/// A removed resource must be gone from the configuration, and two removed blocks must not name
/// the same thing, as Terraform checks.
pub(super) fn check_removed(config: &Config) -> Result<()> {
    let mut errors = Diagnostics::default();
    for (i, removed) in config.removed.iter().enumerate() {
        let declared = match &removed.from {
            Target::Resource(resource) if resource.module.is_root() => config.resources.get_key_value(&resource.resource).map(|(address, _)| ("resource", address.to_string())),
            Target::Module(module) if module.0.len() == 1 && config.modules.contains_key(&module.0[0].name) => Some(("module", removed.from.to_string())),
            // Deeper: a resource or module of a child module, declared (or not) in that module.
            _ => None,
        };
        if let Some((what, address)) = declared {
            errors.push(
                Diagnostic::error(format!("Removed {what} block still exists"))
                    .at(Some(&removed.location))
                    .detail(format!("This statement declares that {address} was removed, but it is still declared in configuration."))
                    .hint(format!("delete the resource block {address}, or this removed block to keep managing it")),
            );
        }
        if let Some(earlier) = config.removed[..i].iter().find(|r| r.from == removed.from) {
            errors.push(
                Diagnostic::error("Duplicate removed block")
                    .at(Some(&removed.location))
                    .detail(format!("{} is already removed at {}", removed.from, earlier.location)),
            );
        }
    }
    errors.into_result().map(|_| ())
}

#[cfg(test)]
mod tests {
    use crate::addrs::Target;

    fn load(source: &str) -> Result<crate::config::Config, String> {
        let dir = std::env::temp_dir().join(format!("strata-blocks-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("main.tf"), source).unwrap();
        let loaded = crate::config::load_dir(&dir);
        std::fs::remove_dir_all(&dir).unwrap();
        loaded.map_err(|errors| {
            errors.0.iter().map(|d| format!("{} at {} {} {}\n", d.summary, d.location.as_ref().map(ToString::to_string).unwrap_or_default(), d.detail.as_deref().unwrap_or(""), d.hint.as_deref().unwrap_or(""))).collect()
        })
    }

    #[test]
    fn removed_blocks_name_a_resource_or_a_module_and_default_to_destroy() {
        let config = load("removed {\n  from = postgres_table.old\n  lifecycle {\n    destroy = false\n  }\n}\nremoved {\n  from = module.db\n}\n").unwrap();
        assert_eq!(config.removed.len(), 2);
        assert!(matches!(&config.removed[0].from, Target::Resource(r) if r.to_string() == "postgres_table.old") && !config.removed[0].destroy);
        assert!(matches!(config.removed[1].from, Target::Module(_)) && config.removed[1].destroy);
    }

    #[test]
    fn a_removed_block_refuses_instance_keys_data_sources_and_a_resource_still_declared() {
        let instance = load("removed {\n  from = postgres_table.old[0]\n}\n").unwrap_err();
        assert!(instance.contains("Resource instance keys not allowed at main.tf:2:3"), "{instance}");
        assert!(load("removed {\n  from = data.aws_vpc.x\n}\n").unwrap_err().contains("Invalid removed address"));
        assert!(load("removed {\n  from = postgres_table.old\n  lifecycle {\n    destroy = var.x\n  }\n}\n").unwrap_err().contains("written literally"));
        let declared = load("resource \"postgres_table\" \"old\" {\n  name = \"old\"\n}\nremoved {\n  from = postgres_table.old\n}\n").unwrap_err();
        assert!(declared.contains("Removed resource block still exists at main.tf:4:1") && declared.contains("postgres_table.old was removed, but it is still declared"), "{declared}");
        let module = load("module \"db\" {\n  source = \"./db\"\n}\nremoved {\n  from = module.db\n}\n").unwrap_err();
        assert!(module.contains("Removed module block still exists") && module.contains("module.db was removed"), "{module}");
        assert!(load("removed {\n  from = module.db[0]\n}\n").unwrap_err().contains("Module instance keys not allowed"));
    }

    #[test]
    fn provisioners_and_connections_are_refused_saying_why_at_their_line() {
        let source = "resource \"postgres_table\" \"t\" {\n  name = \"t\"\n  provisioner \"local-exec\" {\n    command = \"psql -f seed.sql\"\n  }\n}\n";
        let error = load(source).unwrap_err();
        assert!(error.contains("provisioner \"local-exec\" blocks are not supported at main.tf:3:3"), "{error}");
        assert!(error.contains("declaratively") && error.contains("run the script outside strata"), "{error}");
        let connection = load("resource \"aws_db_instance\" \"db\" {\n  connection {\n    host = \"x\"\n  }\n}\n").unwrap_err();
        assert!(connection.contains("connection blocks are not supported at main.tf:2:3"), "{connection}");
    }
}
