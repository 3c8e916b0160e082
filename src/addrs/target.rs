//! What `-target`, `-exclude`, `-replace`, `moved`, `removed` and `state` commands name: a
//! module instance (everything in it), a resource (all its instances) or one instance.

use std::fmt;
use std::str::FromStr;

use super::{AbsResource, ConfigResource, InstanceKey, ModuleInstance, ResourceInstance};

#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Target {
    Module(ModuleInstance),
    Resource(AbsResource),
    Instance(ResourceInstance),
}

impl Target {
    /// True when `instance` is this target or inside it.
    pub fn contains(&self, instance: &ResourceInstance) -> bool {
        match self {
            Target::Module(module) => within(&instance.module, module),
            Target::Resource(resource) => {
                instance.resource == resource.resource && instance.module.0.len() == resource.module.0.len() && within(&instance.module, &resource.module)
            }
            Target::Instance(one) => one == instance,
        }
    }

    /// The resource block this names or names an instance of; none for a module.
    pub fn resource(&self) -> Option<&ConfigResource> {
        match self {
            Target::Module(_) => None,
            Target::Resource(resource) => Some(&resource.resource),
            Target::Instance(instance) => Some(&instance.resource),
        }
    }

    /// The one instance this names when it names exactly one: a resource's address stands for its
    /// only instance when it has neither `count` nor `for_each` (as in `moved { from = x, to = x[0] }`).
    pub fn as_instance(&self) -> Option<ResourceInstance> {
        match self {
            Target::Module(_) => None,
            Target::Resource(resource) => Some(resource.instance(InstanceKey::None)),
            Target::Instance(instance) => Some(instance.clone()),
        }
    }
}

/// True when `module` is `target` or inside it; a target's module call without a key stands for
/// all its instances (`-target=module.db` takes `module.db[0]` too, as in Terraform).
fn within(module: &ModuleInstance, target: &ModuleInstance) -> bool {
    module.0.len() >= target.0.len()
        && module.0.iter().zip(&target.0).all(|(step, wanted)| step.name == wanted.name && (wanted.key == InstanceKey::None || step.key == wanted.key))
}

/// Where `moved { from, to }` puts `instance`, when the move concerns it: a module's instances
/// keep their path below it, a resource's keep their keys, one instance goes to the other.
pub fn move_instance(from: &Target, to: &Target, instance: &ResourceInstance) -> Option<ResourceInstance> {
    match (from, to) {
        (Target::Module(old), Target::Module(new)) => instance.module.0.strip_prefix(old.0.as_slice()).map(|below| ResourceInstance {
            module: ModuleInstance(new.0.iter().chain(below).cloned().collect()),
            ..instance.clone()
        }),
        (Target::Resource(old), Target::Resource(new)) => (instance.resource() == *old).then(|| new.instance(instance.key.clone())),
        _ => (from.as_instance().as_ref() == Some(instance)).then(|| to.as_instance()).flatten(),
    }
}

impl fmt::Display for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Target::Module(module) => write!(f, "{module}"),
            Target::Resource(resource) => write!(f, "{resource}"),
            Target::Instance(instance) => write!(f, "{instance}"),
        }
    }
}

impl FromStr for Target {
    type Err = String;

    fn from_str(text: &str) -> Result<Target, String> {
        super::parse::target(text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn instance(text: &str) -> ResourceInstance {
        text.parse().unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn a_resource_target_contains_all_its_instances_and_an_instance_only_itself() {
        let all: Target = "postgres_table.t".parse().unwrap();
        let one: Target = "postgres_table.t[\"a\"]".parse().unwrap();
        let module: Target = "module.m".parse().unwrap();
        assert!(all.contains(&instance("postgres_table.t[\"a\"]")) && all.contains(&instance("postgres_table.t")));
        assert!(!all.contains(&instance("postgres_table.u")) && !all.contains(&instance("module.m.postgres_table.t")));
        assert!(one.contains(&instance("postgres_table.t[\"a\"]")) && !one.contains(&instance("postgres_table.t[\"b\"]")));
        assert!(module.contains(&instance("module.m[0].module.n.postgres_table.t")));
        assert!(module.contains(&instance("module.m.module.n.postgres_table.t")));
        let keyed: Target = "module.m[1]".parse().unwrap();
        assert!(!keyed.contains(&instance("module.m[0].postgres_table.t")) && keyed.contains(&instance("module.m[1].postgres_table.t")));
    }

    #[test]
    fn moves_keep_keys_below_what_moves() {
        let mv = |from: &str, to: &str, what: &str| move_instance(&from.parse().unwrap(), &to.parse().unwrap(), &instance(what)).map(|i| i.to_string());
        assert_eq!(mv("postgres_table.a", "postgres_table.b", "postgres_table.a[\"k\"]").as_deref(), Some("postgres_table.b[\"k\"]"));
        assert_eq!(mv("postgres_table.a", "postgres_table.a[0]", "postgres_table.a").as_deref(), Some("postgres_table.a[0]"));
        assert_eq!(mv("postgres_table.a[0]", "postgres_table.a[\"x\"]", "postgres_table.a[0]").as_deref(), Some("postgres_table.a[\"x\"]"));
        assert_eq!(mv("postgres_table.a[0]", "postgres_table.a[\"x\"]", "postgres_table.a[1]"), None);
        assert_eq!(mv("module.a", "module.b[\"k\"]", "module.a.module.c.postgres_table.t[2]").as_deref(), Some("module.b[\"k\"].module.c.postgres_table.t[2]"));
        assert_eq!(mv("postgres_table.x", "module.m.postgres_table.x", "postgres_table.x[1]").as_deref(), Some("module.m.postgres_table.x[1]"));
    }
}
