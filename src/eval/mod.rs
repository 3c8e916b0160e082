//! Expression evaluation: gives configuration expressions their values.
//!
//! Owns the scope an expression sees (`var.`, `local.`, resource and data attributes, `path.`),
//! operators, templates, for-expressions, conditionals, the built-in functions ([`functions`]),
//! type constraints of variables ([`types`]), and which references an expression makes
//! ([`references`]). Values that only apply can know are [`Value::Unknown`] and propagate through
//! everything. It tracks whether an expression read a sensitive value, so callers can mask it.
//! It must not plan, apply or talk to providers.

mod dynamic;
pub mod functions;
mod references;
pub mod types;

use std::cell::Cell;
use std::collections::{BTreeMap, BTreeSet};
use std::rc::Rc;

use hcl::expr::{BinaryOperator, Expression, ObjectKey, TraversalOperator, UnaryOperator};
use hcl::template::{Directive, Element, Template};
use serde_json::Number;
use strata_provider_sdk::Value;

pub use dynamic::{body_references, Dynamic};
pub use references::{expression_references, Reference};

use crate::addrs::{AbsResource, ConfigResource, InstanceKey, ModuleInstance, ResourceInstance};
use crate::config::{AttrExpr, BodyExpr, Condition, Config, ModuleCall, Variable};
use crate::diag::{suggestion, Diagnostic, Result};

/// The value of one resource or data source as far as it is known, and which of its top-level
/// attributes are sensitive.
#[derive(Clone, Debug, Default)]
pub struct KnownResource {
    pub value: Value,
    pub sensitive: BTreeSet<String>,
}

/// Values of resource instances known so far; a declared instance missing here is unknown.
pub type Known = BTreeMap<ResourceInstance, KnownResource>;

/// What an instance's expressions see of the `count` or `for_each` that made it.
#[derive(Clone, Debug, Default, PartialEq)]
pub enum Repetition {
    /// Neither: `count` and `each` are errors.
    #[default]
    None,
    /// `count.index`.
    Count(Value),
    /// `each.key` and `each.value`.
    Each { key: Value, value: Value },
}

/// Everything an expression can refer to.
#[derive(Clone)]
pub struct Scope<'a> {
    /// The configuration of the module evaluated in.
    pub config: &'a Config,
    /// The root module's variable values; a variable missing here evaluates as unknown (as in `validate`).
    pub variables: &'a BTreeMap<String, Value>,
    pub resources: &'a Known,
    pub repetition: Repetition,
    /// The module instance evaluated in, when it is not the root.
    pub module: Option<Rc<ModuleFrame<'a>>>,
    /// What `self` is: the instance's own value, in its `postcondition` blocks.
    pub self_value: Option<Rc<Value>>,
}

/// A module instance's place in the tree: which call made it and where that call's arguments
/// (the module's variables) evaluate.
pub struct ModuleFrame<'a> {
    pub instance: ModuleInstance,
    pub call: &'a ModuleCall,
    /// The calling module's scope, with the call's `count.index` or `each`.
    pub caller: Scope<'a>,
}

/// A value and whether anything sensitive went into it.
#[derive(Clone, Debug, PartialEq)]
pub struct Evaluated {
    pub value: Value,
    pub sensitive: bool,
}

impl<'a> Scope<'a> {
    /// The root module's scope.
    pub fn root(config: &'a Config, variables: &'a BTreeMap<String, Value>, resources: &'a Known) -> Scope<'a> {
        Scope { config, variables, resources, repetition: Repetition::None, module: None, self_value: None }
    }

    /// This scope for an instance that `count` or `for_each` made.
    pub fn repeating(&self, repetition: Repetition) -> Scope<'a> {
        Scope { repetition, ..self.clone() }
    }

    /// The module instance evaluated in.
    pub fn module_instance(&self) -> ModuleInstance {
        self.module.as_ref().map_or_else(ModuleInstance::root, |frame| frame.instance.clone())
    }

    /// The scope of the instance `key` of the module call `name` here; `repetition` is what the
    /// call's `count` or `for_each` gives that instance.
    pub fn child(&self, name: &str, key: InstanceKey, repetition: Repetition) -> Option<Scope<'a>> {
        let call = self.config.modules.get(name)?;
        let frame = ModuleFrame { instance: self.module_instance().child(name, key), call, caller: self.repeating(repetition) };
        Some(Scope { config: &call.config, variables: self.variables, resources: self.resources, repetition: Repetition::None, module: Some(Rc::new(frame)), self_value: None })
    }

    /// Whether `condition` (a validation, a precondition or postcondition, an assertion) holds:
    /// `None` while it cannot be told yet; a value other than true or false is an error.
    pub fn condition_holds(&self, condition: &Condition) -> Result<Option<bool>> {
        let value = self.eval_attr(&condition.condition)?.value;
        Ok(condition_result(value, condition)?)
    }

    /// A false condition's `error_message`, when it evaluates to a string.
    pub fn condition_message(&self, condition: &Condition) -> Option<String> {
        self.eval_attr(&condition.error_message).ok().and_then(|m| m.value.as_str().map(str::to_owned))
    }

    /// Evaluates one attribute; errors point at it.
    pub fn eval_attr(&self, attr: &AttrExpr) -> Result<Evaluated> {
        self.eval_attr_with(attr, &[])
    }

    /// Evaluates one attribute with `bindings` (names bound around it, such as the iterators of
    /// dynamic blocks) in scope.
    fn eval_attr_with(&self, attr: &AttrExpr, bindings: &[(String, Value)]) -> Result<Evaluated> {
        let evaluator = Evaluator::new(self);
        *evaluator.bindings.borrow_mut() = bindings.to_vec();
        let value = evaluator.eval(&attr.expr).map_err(|d| d.at(Some(&attr.location)))?;
        Ok(Evaluated { value, sensitive: evaluator.sensitive.get() })
    }

    /// Evaluates a block body into an object: attributes by name, nested blocks as lists of
    /// objects under their block type. Also returns the top-level names that read something sensitive.
    pub fn eval_body(&self, body: &BodyExpr) -> Result<(Value, BTreeSet<String>)> {
        // Nested blocks may be `dynamic`: see `dynamic`.
        dynamic::eval_body(self, body, &[])
    }
}

struct Evaluator<'s, 'a> {
    scope: &'s Scope<'a>,
    /// Names bound by enclosing for-expressions, innermost last.
    bindings: std::cell::RefCell<Vec<(String, Value)>>,
    sensitive: Cell<bool>,
    /// Locals being evaluated, to stop a local that refers to itself.
    local_stack: std::cell::RefCell<Vec<String>>,
    /// Module variables whose validations are being evaluated: their conditions read the variable.
    validating: std::cell::RefCell<Vec<String>>,
}

type EvalResult = std::result::Result<Value, Diagnostic>;

impl<'s, 'a> Evaluator<'s, 'a> {
    fn new(scope: &'s Scope<'a>) -> Self {
        Evaluator { scope, bindings: Default::default(), sensitive: Cell::new(false), local_stack: Default::default(), validating: Default::default() }
    }

    fn eval(&self, expr: &Expression) -> EvalResult {
        match expr {
            Expression::Null => Ok(Value::Null),
            Expression::Bool(b) => Ok(Value::Bool(*b)),
            Expression::Number(n) => Ok(number_value(n)),
            Expression::String(s) => Ok(Value::String(s.clone())),
            Expression::Array(items) => items.iter().map(|item| self.eval(item)).collect::<std::result::Result<Vec<_>, _>>().map(Value::List),
            Expression::Object(entries) => self.eval_object(entries),
            Expression::TemplateExpr(template) => {
                let text = template_text(template);
                let mut parsed = parse_template(&text)?;
                functions::apply_strip_markers(&mut parsed);
                self.eval_template(&parsed)
            }
            Expression::Variable(variable) => self.eval_root(variable.as_str()),
            Expression::Traversal(traversal) => self.eval_traversal(&traversal.expr, &traversal.operators),
            Expression::FuncCall(call) => self.eval_call(call),
            Expression::Parenthesis(inner) => self.eval(inner),
            Expression::Conditional(cond) => match self.eval(&cond.cond_expr)? {
                Value::Unknown => Ok(Value::Unknown),
                Value::Bool(true) => self.eval(&cond.true_expr),
                Value::Bool(false) => self.eval(&cond.false_expr),
                other => Err(Diagnostic::error(format!("a condition must be true or false, not {}", other.kind_phrase()))),
            },
            Expression::Operation(op) => match op.as_ref() {
                hcl::expr::Operation::Unary(unary) => unary_op(unary.operator, self.eval(&unary.expr)?),
                hcl::expr::Operation::Binary(binary) => {
                    binary_op(binary.operator, self.eval(&binary.lhs_expr)?, self.eval(&binary.rhs_expr)?)
                }
            },
            Expression::ForExpr(for_expr) => self.eval_for(for_expr),
            _ => Err(Diagnostic::error("this kind of expression is not supported")),
        }
    }

    fn eval_object(&self, entries: &hcl::expr::Object<ObjectKey, Expression>) -> EvalResult {
        let mut map = BTreeMap::new();
        for (key, value) in entries {
            let key = match key {
                ObjectKey::Identifier(ident) => ident.as_str().to_owned(),
                ObjectKey::Expression(expr) => match self.eval(expr)? {
                    Value::Unknown => return Ok(Value::Unknown),
                    other => to_string(&other)?,
                },
                _ => return Err(Diagnostic::error("unsupported object key")),
            };
            map.insert(key, self.eval(value)?);
        }
        Ok(Value::Object(map))
    }

    fn eval_template(&self, template: &Template) -> EvalResult {
        let mut out = String::new();
        for element in template.elements() {
            let piece = match element {
                Element::Literal(text) => Value::String(text.clone()),
                Element::Interpolation(interpolation) => self.eval(&interpolation.expr)?,
                Element::Directive(directive) => self.eval_directive(directive)?,
            };
            match piece {
                Value::Unknown => return Ok(Value::Unknown),
                other => out.push_str(&to_string(&other)?),
            }
        }
        Ok(Value::String(out))
    }

    fn eval_directive(&self, directive: &Directive) -> EvalResult {
        match directive {
            Directive::If(if_directive) => match self.eval(&if_directive.cond_expr)? {
                Value::Unknown => Ok(Value::Unknown),
                Value::Bool(true) => self.eval_template(&if_directive.true_template),
                Value::Bool(false) => match &if_directive.false_template {
                    Some(template) => self.eval_template(template),
                    None => Ok(Value::String(String::new())),
                },
                other => Err(Diagnostic::error(format!("an %{{if}} condition must be true or false, not {}", other.kind_phrase()))),
            },
            Directive::For(for_directive) => {
                let collection = self.eval(&for_directive.collection_expr)?;
                let mut out = String::new();
                for (key, value) in iterate(&collection)? {
                    let piece = self.with_bindings(for_directive.key_var.as_ref().map(|k| k.as_str()), for_directive.value_var.as_str(), key, value, || {
                        self.eval_template(&for_directive.template)
                    })?;
                    match piece {
                        Value::Unknown => return Ok(Value::Unknown),
                        other => out.push_str(&to_string(&other)?),
                    }
                }
                if collection.is_unknown() {
                    return Ok(Value::Unknown);
                }
                Ok(Value::String(out))
            }
        }
    }

    fn with_bindings<T>(&self, key_var: Option<&str>, value_var: &str, key: Value, value: Value, body: impl FnOnce() -> T) -> T {
        let pushed = {
            let mut bindings = self.bindings.borrow_mut();
            if let Some(key_var) = key_var {
                bindings.push((key_var.to_owned(), key));
                bindings.push((value_var.to_owned(), value));
                2
            } else {
                bindings.push((value_var.to_owned(), value));
                1
            }
        };
        let result = body();
        let mut bindings = self.bindings.borrow_mut();
        let keep = bindings.len() - pushed;
        bindings.truncate(keep);
        result
    }

    fn eval_for(&self, for_expr: &hcl::expr::ForExpr) -> EvalResult {
        let collection = self.eval(&for_expr.collection_expr)?;
        if collection.is_unknown() {
            return Ok(Value::Unknown);
        }
        let key_var = for_expr.key_var.as_ref().map(|k| k.as_str());
        let value_var = for_expr.value_var.as_str();
        let mut list = Vec::new();
        let mut object: BTreeMap<String, Value> = BTreeMap::new();
        let mut grouped: BTreeMap<String, Vec<Value>> = BTreeMap::new();
        for (key, value) in iterate(&collection)? {
            let produced = self.with_bindings(key_var, value_var, key, value, || -> std::result::Result<Option<(Option<Value>, Value)>, Diagnostic> {
                if let Some(cond) = &for_expr.cond_expr {
                    match self.eval(cond)? {
                        Value::Bool(true) => {}
                        Value::Bool(false) => return Ok(None),
                        Value::Unknown => return Ok(Some((None, Value::Unknown))),
                        other => return Err(Diagnostic::error(format!("a for-expression's if must be true or false, not {}", other.kind_phrase()))),
                    }
                }
                let key = for_expr.key_expr.as_ref().map(|k| self.eval(k)).transpose()?;
                Ok(Some((key, self.eval(&for_expr.value_expr)?)))
            })?;
            match produced {
                None => {}
                Some((None, value)) if for_expr.key_expr.is_none() => list.push(value),
                Some((Some(Value::Unknown), _)) | Some((None, _)) => return Ok(Value::Unknown),
                Some((Some(key), value)) => {
                    let key = to_string(&key)?;
                    if for_expr.grouping {
                        grouped.entry(key).or_default().push(value);
                    } else if object.insert(key.clone(), value).is_some() {
                        return Err(Diagnostic::error(format!("duplicate key \"{key}\" in a for-expression"))
                            .hint("use ... after the value to group values by key"));
                    }
                }
            }
        }
        Ok(match (&for_expr.key_expr, for_expr.grouping) {
            (None, _) => Value::List(list),
            (Some(_), true) => Value::Object(grouped.into_iter().map(|(k, v)| (k, Value::List(v))).collect()),
            (Some(_), false) => Value::Object(object),
        })
    }

    fn eval_root(&self, name: &str) -> EvalResult {
        if let Some((_, value)) = self.bindings.borrow().iter().rev().find(|(bound, _)| bound == name) {
            return Ok(value.clone());
        }
        Err(Diagnostic::error(format!("\"{name}\" cannot be used on its own here"))
            .hint(format!("refer to an attribute, such as {name}.NAME, or declare it with a for-expression")))
    }

    fn eval_traversal(&self, root: &Expression, operators: &[TraversalOperator]) -> EvalResult {
        let bound = match root {
            Expression::Variable(variable) => {
                let name = variable.as_str();
                self.bindings.borrow().iter().rev().find(|(bound, _)| bound == name).map(|(_, v)| v.clone())
            }
            _ => None,
        };
        let (start, rest) = match (root, bound) {
            (_, Some(value)) => (value, operators),
            (Expression::Variable(variable), None) => self.resolve_named(variable.as_str(), operators)?,
            (other, None) => (self.eval(other)?, operators),
        };
        rest.iter().try_fold(start, |value, operator| self.apply_operator(value, operator))
    }

    /// Resolves `var.x`, `local.x`, `TYPE.NAME`, `data.TYPE.NAME`, `path.module`; returns the value
    /// and the operators still to apply.
    fn resolve_named<'o>(&self, root: &str, operators: &'o [TraversalOperator]) -> std::result::Result<(Value, &'o [TraversalOperator]), Diagnostic> {
        let attr_name = |index: usize| match operators.get(index) {
            Some(TraversalOperator::GetAttr(ident)) => Some(ident.as_str()),
            _ => None,
        };
        let need = |index: usize, what: &str| {
            attr_name(index).ok_or_else(|| Diagnostic::error(format!("\"{root}\" must be followed by .{what}")))
        };
        match root {
            "var" => Ok((self.variable(need(0, "NAME")?)?, &operators[1..])),
            "local" => Ok((self.local(need(0, "NAME")?)?, &operators[1..])),
            "path" => {
                let key = need(0, "module")?;
                let dir = self.scope.config.root_dir.display().to_string();
                match key {
                    "module" => Ok((Value::String(self.scope.config.path_module()), &operators[1..])),
                    "root" => Ok((Value::String(".".into()), &operators[1..])),
                    "cwd" => Ok((Value::String(dir), &operators[1..])),
                    other => Err(Diagnostic::error(format!("unknown attribute path.{other}")).hint("use path.module, path.root or path.cwd")),
                }
            }
            "terraform" | "strata" if attr_name(0) == Some("workspace") => {
                let workspace = self.scope.config.workspace.as_deref().unwrap_or(crate::state::backend::DEFAULT_WORKSPACE);
                Ok((Value::String(workspace.to_owned()), &operators[1..]))
            }
            "count" => Ok((self.count_attribute(need(0, "index")?)?, &operators[1..])),
            "each" => Ok((self.each_attribute(need(0, "key")?)?, &operators[1..])),
            "module" => self.module_call(need(0, "NAME")?, &operators[1..]),
            "self" => match &self.scope.self_value {
                Some(value) => Ok((value.as_ref().clone(), operators)),
                None => Err(Diagnostic::error("Invalid \"self\" reference").detail("\"self\" can be used only in a resource's postcondition blocks, for the resource's own attributes")),
            },
            "data" => {
                let address = ConfigResource::data(need(0, "TYPE")?, need(1, "NAME")?);
                Ok((self.resource(&address, &operators[2..])?, &operators[2..]))
            }
            type_name => {
                let name = attr_name(0).ok_or_else(|| self.unknown_root(type_name))?;
                let address = ConfigResource::managed(type_name, name);
                if !self.scope.config.resources.contains_key(&address) && !self.scope.config.resources.keys().any(|a| a.type_name == type_name) {
                    return Err(self.unknown_root(type_name));
                }
                Ok((self.resource(&address, &operators[1..])?, &operators[1..]))
            }
        }
    }

    fn unknown_root(&self, root: &str) -> Diagnostic {
        let mut names: Vec<&str> = vec!["var", "local", "data", "module", "path", "count", "each"];
        names.extend(self.scope.config.resources.keys().map(|a| a.type_name.as_str()));
        Diagnostic::error(format!("reference to undeclared name \"{root}\"")).hint(suggestion(root, names))
    }

    fn variable(&self, name: &str) -> EvalResult {
        let declared = self.scope.config.variables.get(name).ok_or_else(|| {
            Diagnostic::error(format!("reference to undeclared input variable \"{name}\""))
                .hint(format!("declare it with variable \"{name}\" {{ ... }}, or {}", suggestion(name, self.scope.config.variables.keys().map(String::as_str))))
        })?;
        if declared.sensitive {
            self.sensitive.set(true);
        }
        match &self.scope.module {
            None => Ok(self.scope.variables.get(name).cloned().unwrap_or(Value::Unknown)),
            Some(frame) => self.module_variable(frame, declared),
        }
    }

    /// A module's variable: the call's argument, evaluated where the call is, or the default;
    /// converted to the variable's type and checked by its validations.
    fn module_variable(&self, frame: &ModuleFrame<'_>, declared: &Variable) -> EvalResult {
        let value = match frame.call.inputs.get(&declared.name) {
            Some(input) => {
                let evaluated = frame.caller.eval_attr(input).map_err(first_error)?;
                if evaluated.sensitive {
                    self.sensitive.set(true);
                }
                evaluated.value
            }
            None => Value::Null,
        };
        let value = match (value, &declared.default) {
            (Value::Null, Some(default)) if !frame.call.inputs.contains_key(&declared.name) || !declared.nullable => self.eval(&default.expr)?,
            (value, _) => value,
        };
        if value.is_unknown() {
            return Ok(value);
        }
        let invalid = |why: String| {
            let location = frame.call.inputs.get(&declared.name).map_or(&frame.call.location, |input| &input.location);
            Diagnostic::error(format!("Invalid value for input variable \"{}\" of {}", declared.name, frame.instance))
                .at(Some(location))
                .detail(why)
                .hint(format!("the variable is declared at {}", declared.location))
        };
        if value.is_null() && !declared.nullable {
            return Err(invalid("the variable may not be null (nullable = false)".to_owned()));
        }
        let value = match &declared.type_expr {
            Some(type_expr) => types::TypeConstraint::parse(&type_expr.expr).map_err(|d| d.at(Some(&type_expr.location)))?.convert(value).map_err(invalid)?,
            None => value,
        };
        self.check_module_validations(declared)?;
        Ok(value)
    }

    /// A module variable's `validation` blocks (their `var.NAME` is the value just converted: the
    /// lookup they make skips validating again).
    fn check_module_validations(&self, declared: &Variable) -> std::result::Result<(), Diagnostic> {
        if declared.validations.is_empty() || self.validating.borrow().contains(&declared.name) {
            return Ok(());
        }
        self.validating.borrow_mut().push(declared.name.clone());
        let result = declared.validations.iter().try_for_each(|validation| {
            let value = self.eval(&validation.condition.expr).map_err(|found| found.at(Some(&validation.condition.location)))?;
            if condition_result(value, validation)? != Some(false) {
                return Ok(());
            }
            let message = self.eval(&validation.error_message.expr).ok().and_then(|m| m.as_str().map(str::to_owned)).unwrap_or_else(|| "the value is not valid".to_owned());
            Err(Diagnostic::error(format!("Invalid value for variable \"{}\"", declared.name)).at(Some(&validation.condition.location)).detail(message))
        });
        self.validating.borrow_mut().pop();
        result
    }

    /// `module.NAME` (with `rest`, the operators after it): the call's outputs as an object, a
    /// list of them for `count`, a map for `for_each`; `module.NAME.OUTPUT` evaluates only that one.
    fn module_call<'o>(&self, name: &str, rest: &'o [TraversalOperator]) -> std::result::Result<(Value, &'o [TraversalOperator]), Diagnostic> {
        let Some(call) = self.scope.config.modules.get(name) else {
            return Err(Diagnostic::error(format!("reference to undeclared module call \"{name}\"")).hint(suggestion(name, self.scope.config.modules.keys().map(String::as_str))));
        };
        let plain = self.scope.repeating(Repetition::None);
        let Some(instances) = crate::instances::expand(&plain, &call.expansion).map_err(first_error)? else { return Ok((Value::Unknown, rest)) };
        let output_named = match (rest.first(), &call.expansion) {
            (Some(TraversalOperator::GetAttr(output)), crate::config::Expansion::Single) => Some(output.as_str()),
            _ => None,
        };
        let mut values = Vec::with_capacity(instances.len());
        for (key, repetition) in instances {
            let Some(child) = plain.child(name, key.clone(), repetition) else { return Ok((Value::Unknown, rest)) };
            let value = match output_named {
                Some(output) => self.module_output(&child, output)?,
                None => Value::Object(call.config.outputs.keys().map(|output| Ok((output.clone(), self.module_output(&child, output)?))).collect::<std::result::Result<_, Diagnostic>>()?),
            };
            values.push((key, value));
        }
        let consumed = if output_named.is_some() { 1 } else { 0 };
        Ok((aggregate(&call.expansion, values), &rest[consumed..]))
    }

    /// The output `name` of the module instance `child` is the scope of.
    fn module_output(&self, child: &Scope<'_>, name: &str) -> EvalResult {
        let Some(output) = child.config.outputs.get(name) else {
            return Err(Diagnostic::error(format!("Unsupported attribute: {} has no output \"{name}\"", child.module_instance()))
                .hint(suggestion(name, child.config.outputs.keys().map(String::as_str))));
        };
        let evaluated = child.eval_attr(&output.value).map_err(first_error)?;
        if evaluated.sensitive || output.sensitive {
            self.sensitive.set(true);
        }
        Ok(evaluated.value)
    }

    fn local(&self, name: &str) -> EvalResult {
        let local = self.scope.config.locals.get(name).ok_or_else(|| {
            Diagnostic::error(format!("reference to undeclared local value \"{name}\""))
                .hint(suggestion(name, self.scope.config.locals.keys().map(String::as_str)))
        })?;
        if self.local_stack.borrow().iter().any(|n| n == name) {
            return Err(Diagnostic::error(format!("local value \"{name}\" refers to itself")));
        }
        self.local_stack.borrow_mut().push(name.to_owned());
        // Locals see no for-expression bindings of the place that refers to them.
        let saved = std::mem::take(&mut *self.bindings.borrow_mut());
        let result = self.eval(&local.value.expr).map_err(|d| d.at(Some(&local.value.location)));
        *self.bindings.borrow_mut() = saved;
        self.local_stack.borrow_mut().pop();
        result
    }

    fn count_attribute(&self, name: &str) -> EvalResult {
        match (&self.scope.repetition, name) {
            (Repetition::Count(index), "index") => Ok(index.clone()),
            (Repetition::Count(_), other) => Err(Diagnostic::error(format!("count has no attribute \"{other}\"")).hint("use count.index")),
            _ => Err(Diagnostic::error("Reference to \"count\" in non-counted context")
                .detail("the \"count\" object can only be used in blocks whose count argument is set")
                .hint("set count = N on this block, or remove the reference")),
        }
    }

    fn each_attribute(&self, name: &str) -> EvalResult {
        match (&self.scope.repetition, name) {
            (Repetition::Each { key, .. }, "key") => Ok(key.clone()),
            (Repetition::Each { value, .. }, "value") => Ok(value.clone()),
            (Repetition::Each { .. }, other) => Err(Diagnostic::error(format!("each has no attribute \"{other}\"")).hint(suggestion(other, ["key", "value"]))),
            _ => Err(Diagnostic::error("Reference to \"each\" in context without for_each")
                .detail("the \"each\" object can be used only in blocks whose for_each argument is set")
                .hint("set for_each on this block, or remove the reference")),
        }
    }

    /// A resource's value: its one instance's, or for `count` a list and for `for_each` a map of
    /// its instances' (unknown while the instances are). `rest` are the operators after it, to
    /// tell whether a sensitive attribute is read.
    fn resource(&self, address: &ConfigResource, rest: &[TraversalOperator]) -> EvalResult {
        let Some(declared) = self.scope.config.resources.get(address) else {
            let same_type = self.scope.config.resources.keys().filter(|a| a.mode == address.mode && a.type_name == address.type_name).map(|a| a.name.as_str());
            return Err(Diagnostic::error(format!("reference to undeclared resource {}", AbsResource { module: self.scope.module_instance(), resource: address.clone() })).hint(suggestion(&address.name, same_type)));
        };
        let plain = self.scope.repeating(Repetition::None);
        let Some(keys) = crate::instances::expand(&plain, &declared.expansion).map_err(first_error)? else { return Ok(Value::Unknown) };
        let resource = AbsResource { module: self.scope.module_instance(), resource: address.clone() };
        let read_attribute = rest.iter().take(2).find_map(|op| match op {
            TraversalOperator::GetAttr(attr) => Some(attr.as_str()),
            _ => None,
        });
        let mut values = Vec::with_capacity(keys.len());
        for (key, _) in keys {
            let known = self.scope.resources.get(&resource.instance(key.clone()));
            if known.is_some_and(|k| read_attribute.is_some_and(|attr| k.sensitive.contains(attr))) {
                self.sensitive.set(true);
            }
            values.push((key, known.map_or(Value::Unknown, |k| k.value.clone())));
        }
        Ok(aggregate(&declared.expansion, values))
    }

    fn apply_operator(&self, value: Value, operator: &TraversalOperator) -> EvalResult {
        match operator {
            TraversalOperator::GetAttr(name) => get_attr(value, name.as_str()),
            TraversalOperator::Index(index) => {
                let index = self.eval(index)?;
                index_value(value, &index)
            }
            TraversalOperator::LegacyIndex(index) => index_value(value, &Value::int(*index as i64)),
            TraversalOperator::AttrSplat | TraversalOperator::FullSplat => match value {
                Value::Unknown => Ok(Value::Unknown),
                Value::Null => Ok(Value::List(vec![])),
                Value::List(items) => Ok(Value::List(items)),
                other => Ok(Value::List(vec![other])),
            },
        }
    }

    fn eval_call(&self, call: &hcl::expr::FuncCall) -> EvalResult {
        functions::call_expression(self, call)
    }
}

/// What the built-in functions need from the evaluator: `try` evaluates its arguments itself,
/// `sensitive()` sets the flag, `templatefile` renders a template.
impl functions::CallSite for Evaluator<'_, '_> {
    fn eval_expr(&self, expr: &Expression) -> EvalResult {
        self.eval(expr)
    }

    fn sensitive(&self) -> &Cell<bool> {
        &self.sensitive
    }

    fn base_dir(&self) -> &std::path::Path {
        &self.scope.config.root_dir
    }

    /// A template sees only the variables passed to it (and the functions): it is evaluated in
    /// a scope of its own, with an empty configuration, so `var.x` there is undeclared as in Terraform.
    fn render_template(&self, text: &str, vars: BTreeMap<String, Value>) -> std::result::Result<(Value, bool), Diagnostic> {
        let config = Config { dir: self.scope.config.dir.clone(), root_dir: self.scope.config.root_dir.clone(), ..Config::default() };
        let (no_variables, nothing_known) = (BTreeMap::new(), BTreeMap::new());
        let scope = Scope::root(&config, &no_variables, &nothing_known);
        let evaluator = Evaluator::new(&scope);
        *evaluator.bindings.borrow_mut() = vars.into_iter().collect();
        let mut template = parse_template(text)?;
        functions::apply_strip_markers(&mut template);
        let value = evaluator.eval_template(&template)?;
        Ok((value, evaluator.sensitive.get()))
    }
}

/// A condition's value as whether it holds (`None`: not known yet).
fn condition_result(value: Value, condition: &Condition) -> std::result::Result<Option<bool>, Diagnostic> {
    match value {
        Value::Bool(holds) => Ok(Some(holds)),
        Value::Unknown => Ok(None),
        other => Err(Diagnostic::error("Invalid condition result")
            .at(Some(&condition.condition.location))
            .detail(format!("a condition must be true or false, not {}", other.kind_phrase()))),
    }
}

/// What a reference to all instances of a block gives: the one instance's value, a list for
/// `count`, a map by key for `for_each`.
fn aggregate(expansion: &crate::config::Expansion, mut values: Vec<(InstanceKey, Value)>) -> Value {
    match expansion {
        crate::config::Expansion::Single => values.pop().map_or(Value::Unknown, |(_, value)| value),
        crate::config::Expansion::Count(_) => Value::List(values.into_iter().map(|(_, value)| value).collect()),
        crate::config::Expansion::ForEach(_) => Value::Object(
            values
                .into_iter()
                .filter_map(|(key, value)| match key {
                    InstanceKey::Str(key) => Some((key, value)),
                    _ => None,
                })
                .collect(),
        ),
    }
}

/// The first of `found`: the evaluator carries one error at a time.
fn first_error(found: crate::diag::Diagnostics) -> Diagnostic {
    found.0.into_iter().next().unwrap_or_else(|| Diagnostic::error("evaluation failed"))
}

fn parse_template(text: &str) -> std::result::Result<Template, Diagnostic> {
    text.parse::<Template>().map_err(|err| Diagnostic::error(format!("invalid template: {err}")))
}

/// The raw template text of a quoted string or heredoc, with `<<-` indentation removed.
pub(crate) fn template_text(template: &hcl::expr::TemplateExpr) -> String {
    match template {
        hcl::expr::TemplateExpr::QuotedString(s) => s.clone(),
        hcl::expr::TemplateExpr::Heredoc(heredoc) => match heredoc.strip {
            hcl::expr::HeredocStripMode::None => heredoc.template.clone(),
            hcl::expr::HeredocStripMode::Indent => dedent(&heredoc.template),
        },
    }
}

fn dedent(text: &str) -> String {
    let indent = text
        .lines()
        .filter(|line| !line.trim().is_empty())
        .map(|line| line.len() - line.trim_start().len())
        .min()
        .unwrap_or(0);
    text.split_inclusive('\n').map(|line| if line.len() >= indent && line[..indent].trim().is_empty() { &line[indent..] } else { line.trim_start() }).collect()
}

fn number_value(n: &hcl::Number) -> Value {
    if let Some(i) = n.as_i64() {
        Value::int(i)
    } else {
        float_value(n.as_f64().unwrap_or(0.0))
    }
}

/// A number value, integral when it can be.
pub fn float_value(f: f64) -> Value {
    if f.fract() == 0.0 && f.abs() < 9.0e15 {
        Value::int(f as i64)
    } else {
        Number::from_f64(f).map_or(Value::Null, Value::Number)
    }
}

fn get_attr(value: Value, name: &str) -> EvalResult {
    match value {
        Value::Unknown => Ok(Value::Unknown),
        Value::Object(mut map) => map.remove(name).ok_or_else(|| {
            Diagnostic::error(format!("this object has no attribute \"{name}\"")).hint(suggestion(name, map.keys().map(String::as_str)))
        }),
        Value::List(items) => items.into_iter().map(|item| get_attr(item, name)).collect::<std::result::Result<Vec<_>, _>>().map(Value::List),
        Value::Null => Err(Diagnostic::error(format!("cannot read attribute \"{name}\" of a null value"))),
        other => Err(Diagnostic::error(format!("cannot read attribute \"{name}\" of {}", other.kind_phrase()))),
    }
}

fn index_value(value: Value, index: &Value) -> EvalResult {
    match (value, index) {
        (Value::Unknown, _) | (_, Value::Unknown) => Ok(Value::Unknown),
        (Value::List(items), index) => {
            let i = index.as_i64().ok_or_else(|| Diagnostic::error("a list index must be a whole number"))?;
            let len = items.len();
            usize::try_from(i).ok().and_then(|i| items.into_iter().nth(i)).ok_or_else(|| {
                Diagnostic::error(format!("index {i} is out of range for a list of {len} element(s)"))
            })
        }
        (Value::Object(mut map), Value::String(key)) => {
            map.remove(key).ok_or_else(|| Diagnostic::error(format!("this map has no key \"{key}\"")))
        }
        (value, index) => Err(Diagnostic::error(format!("cannot index {} with {}", value.kind_phrase(), index.kind_phrase()))),
    }
}

/// Pairs of (key, value) to iterate over: list indexes or object keys.
fn iterate(collection: &Value) -> std::result::Result<Vec<(Value, Value)>, Diagnostic> {
    match collection {
        Value::Unknown => Ok(vec![]),
        Value::List(items) => Ok(items.iter().enumerate().map(|(i, v)| (Value::int(i as i64), v.clone())).collect()),
        Value::Object(map) => Ok(map.iter().map(|(k, v)| (Value::String(k.clone()), v.clone())).collect()),
        other => Err(Diagnostic::error(format!("cannot iterate over {}", other.kind_phrase()))),
    }
}

/// The string form of a primitive, as interpolation and `tostring` produce it.
pub fn to_string(value: &Value) -> std::result::Result<String, Diagnostic> {
    match value {
        Value::String(s) => Ok(s.clone()),
        Value::Number(n) => Ok(n.to_string()),
        Value::Bool(b) => Ok(b.to_string()),
        Value::Null => Err(Diagnostic::error("a null value cannot be turned into a string")),
        other => Err(Diagnostic::error(format!("{} cannot be turned into a string", other.kind_phrase()))
            .hint("use jsonencode() or join() to make a string from a collection")),
    }
}

fn unary_op(operator: UnaryOperator, value: Value) -> EvalResult {
    match (operator, value) {
        (_, Value::Unknown) => Ok(Value::Unknown),
        (UnaryOperator::Neg, Value::Number(n)) => Ok(float_value(-n.as_f64().unwrap_or(0.0))),
        (UnaryOperator::Not, Value::Bool(b)) => Ok(Value::Bool(!b)),
        (UnaryOperator::Neg, other) => Err(Diagnostic::error(format!("cannot negate {}", other.kind_phrase()))),
        (UnaryOperator::Not, other) => Err(Diagnostic::error(format!("! needs a bool, not {}", other.kind_phrase()))),
    }
}

fn binary_op(operator: BinaryOperator, lhs: Value, rhs: Value) -> EvalResult {
    use BinaryOperator::*;
    match operator {
        And | Or => {
            let (a, b) = (lhs.as_bool(), rhs.as_bool());
            match (operator, a, b) {
                (And, Some(false), _) | (And, _, Some(false)) => Ok(Value::Bool(false)),
                (Or, Some(true), _) | (Or, _, Some(true)) => Ok(Value::Bool(true)),
                _ if lhs.is_unknown() || rhs.is_unknown() => Ok(Value::Unknown),
                (_, Some(a), Some(b)) => Ok(Value::Bool(if operator == And { a && b } else { a || b })),
                _ => Err(Diagnostic::error("&& and || need bool operands")),
            }
        }
        _ if lhs.is_unknown() || rhs.is_unknown() => Ok(Value::Unknown),
        Eq => Ok(Value::Bool(loosely_equal(&lhs, &rhs))),
        NotEq => Ok(Value::Bool(!loosely_equal(&lhs, &rhs))),
        _ => {
            let a = types::to_number(&lhs)?;
            let b = types::to_number(&rhs)?;
            Ok(match operator {
                Less => Value::Bool(a < b),
                LessEq => Value::Bool(a <= b),
                Greater => Value::Bool(a > b),
                GreaterEq => Value::Bool(a >= b),
                Plus => float_value(a + b),
                Minus => float_value(a - b),
                Mul => float_value(a * b),
                Div if b == 0.0 => return Err(Diagnostic::error("division by zero")),
                Div => float_value(a / b),
                Mod if b == 0.0 => return Err(Diagnostic::error("modulo by zero")),
                Mod => float_value(a % b),
                _ => return Err(Diagnostic::error("unsupported operator")),
            })
        }
    }
}

/// Equality that treats `1` and `1.0` as the same number.
fn loosely_equal(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => x.as_f64() == y.as_f64(),
        _ => a == b,
    }
}

#[cfg(test)]
mod tests;
