//! Reading addresses as Terraform writes them on its command line and in `moved` blocks:
//! HCL traversals (`module.a["k"].aws_db_instance.x[0]`), parsed by hcl-rs.

use hcl::expr::{Expression, TraversalOperator};

use super::{AbsResource, ConfigResource, InstanceKey, ModuleInstance, ModuleStep, Target};

const EXPECTED: &str = "expected [module.NAME[KEY]. ...]TYPE.NAME[KEY] or data.TYPE.NAME[KEY], with KEY a whole number or a quoted string";

/// One step of a traversal: `.name` or `[key]`.
enum Step {
    Name(String),
    Key(InstanceKey),
}

/// Parses a module, a resource (all its instances) or one resource instance.
pub fn target(text: &str) -> Result<Target, String> {
    match text.trim().parse::<Expression>() {
        Ok(expression) => target_in(&expression, text),
        Err(_) => Err(format!("\"{text}\" is not a valid address (not a traversal): {EXPECTED}")),
    }
}

/// The target an unquoted address in configuration names (`moved { from = x[0] }`).
pub fn target_of(expression: &Expression) -> Result<Target, String> {
    target_in(expression, &hcl::format::to_string(expression).unwrap_or_default())
}

/// `expression`'s target; `text` is its source, for messages.
fn target_in(expression: &Expression, text: &str) -> Result<Target, String> {
    let steps = steps(expression).ok_or_else(|| invalid(text, "not a traversal"))?;
    let (target, rest) = leading_target(steps, text)?;
    match rest.as_slice() {
        [] => Ok(target),
        _ => Err(invalid(text, "something follows the resource's name and key")),
    }
}

/// `TYPE.NAME[KEY].attribute.path` as the instance and the dotted path after it (drift
/// acknowledgements name an attribute this way).
pub fn instance_and_path(text: &str) -> Result<(super::ResourceInstance, Option<String>), String> {
    let expression: Expression = text.trim().parse().map_err(|_| invalid(text, "not a traversal"))?;
    let steps = steps(&expression).ok_or_else(|| invalid(text, "not a traversal"))?;
    let (target, rest) = leading_target(steps, text)?;
    let instance = target.as_instance().ok_or_else(|| invalid(text, "a module has no attributes"))?;
    let path: Vec<String> = rest
        .into_iter()
        .map(|step| match step {
            Step::Name(name) => Ok(name),
            Step::Key(_) => Err(invalid(text, "an attribute path is names joined by dots")),
        })
        .collect::<Result<_, _>>()?;
    Ok((instance, (!path.is_empty()).then(|| path.join("."))))
}

fn invalid(text: &str, why: &str) -> String {
    format!("\"{text}\" is not a valid address ({why}): {EXPECTED}")
}

/// The target the steps start with, and the steps after it.
fn leading_target(steps: Vec<Step>, text: &str) -> Result<(Target, Vec<Step>), String> {
    let mut steps = steps.into_iter().peekable();
    let mut module = ModuleInstance::root();
    while matches!(steps.peek(), Some(Step::Name(name)) if name == "module") {
        steps.next();
        let Some(Step::Name(name)) = steps.next() else { return Err(invalid(text, "module must be followed by .NAME")) };
        let key = match steps.next_if(|step| matches!(step, Step::Key(_))) {
            Some(Step::Key(key)) => key,
            _ => InstanceKey::None,
        };
        module.0.push(ModuleStep { name, key });
    }
    let mut name = || match steps.next() {
        Some(Step::Name(name)) => Ok(name),
        Some(Step::Key(_)) => Err(invalid(text, "a key must follow a name")),
        None => Err(invalid(text, "it ends too early")),
    };
    let first = match name() {
        Ok(first) => first,
        Err(_) if !module.is_root() => return Ok((Target::Module(module), vec![])),
        Err(err) => return Err(err),
    };
    let resource = if first == "data" {
        let type_name = name()?;
        ConfigResource::data(&type_name, &name()?)
    } else {
        ConfigResource::managed(&first, &name()?)
    };
    let resource = AbsResource { module, resource };
    let target = match steps.next_if(|step| matches!(step, Step::Key(_))) {
        Some(Step::Key(key)) => Target::Instance(resource.instance(key)),
        _ => Target::Resource(resource),
    };
    Ok((target, steps.collect()))
}

/// The traversal's steps, or `None` when it is not a plain traversal of names and literal keys.
fn steps(expression: &Expression) -> Option<Vec<Step>> {
    let (root, operators) = match expression {
        Expression::Variable(root) => (root, &[][..]),
        Expression::Traversal(traversal) => match &traversal.expr {
            Expression::Variable(root) => (root, traversal.operators.as_slice()),
            _ => return None,
        },
        _ => return None,
    };
    let mut steps = vec![Step::Name(root.as_str().to_owned())];
    for operator in operators {
        steps.push(match operator {
            TraversalOperator::GetAttr(name) => Step::Name(name.as_str().to_owned()),
            TraversalOperator::LegacyIndex(index) => Step::Key(InstanceKey::Int(i64::try_from(*index).ok()?)),
            TraversalOperator::Index(Expression::Number(number)) => Step::Key(InstanceKey::Int(number.as_i64().filter(|n| *n >= 0)?)),
            TraversalOperator::Index(Expression::String(key)) => Step::Key(InstanceKey::Str(key.clone())),
            TraversalOperator::Index(Expression::TemplateExpr(template)) => match template.as_ref() {
                hcl::expr::TemplateExpr::QuotedString(key) if !key.contains("${") && !key.contains("%{") => Step::Key(InstanceKey::Str(key.clone())),
                _ => return None,
            },
            _ => return None,
        });
    }
    Some(steps)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets_name_modules_resources_or_instances() {
        assert!(matches!(target("module.a"), Ok(Target::Module(m)) if m.to_string() == "module.a"));
        assert!(matches!(target("module.a[1].module.b"), Ok(Target::Module(m)) if m.to_string() == "module.a[1].module.b"));
        assert!(matches!(target("aws_db_instance.x"), Ok(Target::Resource(r)) if r.to_string() == "aws_db_instance.x"));
        assert!(matches!(target("data.aws_vpc.x[\"a\"]"), Ok(Target::Instance(i)) if i.to_string() == "data.aws_vpc.x[\"a\"]"));
        let error = target("aws_db_instance").err().unwrap_or_default();
        assert!(error.contains("ends too early") && error.contains("TYPE.NAME"), "{error}");
        assert!(target("module.a.aws_x.y[-1]").is_err());
        assert!(target("aws_x.y[\"${var.k}\"]").is_err());
        let (instance, path) = instance_and_path("postgres_table.t[\"a\"].column.team").unwrap();
        assert_eq!((instance.to_string().as_str(), path.as_deref()), ("postgres_table.t[\"a\"]", Some("column.team")));
        assert_eq!(instance_and_path("aws_db_instance.main").map(|(i, p)| (i.to_string(), p)), Ok(("aws_db_instance.main".to_owned(), None)));
    }
}
