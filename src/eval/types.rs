//! Type constraints of input variables (`type = list(string)`) and converting values to them the
//! way Terraform does (a number given as "5" becomes 5, and so on).

use std::collections::BTreeMap;

use hcl::expr::{Expression, ObjectKey};
use strata_provider_sdk::{Type, Value};

use super::float_value;
use crate::diag::Diagnostic;

/// A variable's declared type.
#[derive(Clone, Debug, PartialEq)]
pub enum TypeConstraint {
    Any,
    String,
    Number,
    Bool,
    List(Box<TypeConstraint>),
    Map(Box<TypeConstraint>),
    Object(BTreeMap<String, Field>),
    Tuple(Vec<TypeConstraint>),
}

/// One attribute of an object type: required, or `optional(type[, default])`.
#[derive(Clone, Debug, PartialEq)]
pub struct Field {
    pub ty: TypeConstraint,
    pub optional: bool,
    /// `optional`'s default, used when the attribute is absent or null.
    pub default: Option<Value>,
}

impl TypeConstraint {
    /// Reads a type expression such as `map(list(string))`.
    pub fn parse(expr: &Expression) -> Result<TypeConstraint, Diagnostic> {
        let invalid = || {
            Diagnostic::error("invalid type constraint")
                .hint("use string, number, bool, any, list(T), set(T), map(T), object({...}) or tuple([...])")
        };
        match expr {
            Expression::Variable(name) => match name.as_str() {
                "string" => Ok(TypeConstraint::String),
                "number" => Ok(TypeConstraint::Number),
                "bool" => Ok(TypeConstraint::Bool),
                "any" => Ok(TypeConstraint::Any),
                // Terraform 0.11's bare collection types: of any element type.
                "list" | "set" => Ok(TypeConstraint::List(Box::new(TypeConstraint::Any))),
                "map" => Ok(TypeConstraint::Map(Box::new(TypeConstraint::Any))),
                _ => Err(invalid()),
            },
            // Terraform 0.11 quoted its types: type = "list".
            Expression::String(name) => match name.as_str() {
                "string" => Ok(TypeConstraint::String),
                "list" => Ok(TypeConstraint::List(Box::new(TypeConstraint::Any))),
                "map" => Ok(TypeConstraint::Map(Box::new(TypeConstraint::Any))),
                _ => Err(invalid()),
            },
            Expression::TemplateExpr(template) => match template.as_ref() {
                hcl::expr::TemplateExpr::QuotedString(name) => TypeConstraint::parse(&Expression::String(name.clone())),
                _ => Err(invalid()),
            },
            Expression::FuncCall(call) => {
                let [arg] = call.args.as_slice() else { return Err(invalid()) };
                match call.name.name.as_str() {
                    "list" | "set" => Ok(TypeConstraint::List(Box::new(TypeConstraint::parse(arg)?))),
                    "map" => Ok(TypeConstraint::Map(Box::new(TypeConstraint::parse(arg)?))),
                    "object" => match arg {
                        Expression::Object(fields) => fields
                            .iter()
                            .map(|(key, value)| {
                                let key = match key {
                                    ObjectKey::Identifier(ident) => ident.as_str().to_owned(),
                                    ObjectKey::Expression(Expression::String(s)) => s.clone(),
                                    _ => return Err(invalid()),
                                };
                                Ok((key, Field::parse(value)?))
                            })
                            .collect::<Result<_, _>>()
                            .map(TypeConstraint::Object),
                        _ => Err(invalid()),
                    },
                    "tuple" => match arg {
                        Expression::Array(items) => items.iter().map(TypeConstraint::parse).collect::<Result<_, _>>().map(TypeConstraint::Tuple),
                        _ => Err(invalid()),
                    },
                    "optional" => Err(Diagnostic::error("optional() may only mark an attribute of an object type").hint("write object({ name = optional(string, \"default\") })")),
                    _ => Err(invalid()),
                }
            }
            _ => Err(invalid()),
        }
    }

    /// The constraint a provider schema's attribute type imposes.
    pub fn from_schema(ty: &Type) -> TypeConstraint {
        match ty {
            Type::String => TypeConstraint::String,
            Type::Number => TypeConstraint::Number,
            Type::Bool => TypeConstraint::Bool,
            Type::List(inner) => TypeConstraint::List(Box::new(TypeConstraint::from_schema(inner))),
            Type::Map(inner) => TypeConstraint::Map(Box::new(TypeConstraint::from_schema(inner))),
            Type::Any => TypeConstraint::Any,
        }
    }

    pub fn describe(&self) -> String {
        match self {
            TypeConstraint::Any => "any".into(),
            TypeConstraint::String => "string".into(),
            TypeConstraint::Number => "number".into(),
            TypeConstraint::Bool => "bool".into(),
            TypeConstraint::List(inner) => format!("list({})", inner.describe()),
            TypeConstraint::Map(inner) => format!("map({})", inner.describe()),
            TypeConstraint::Object(_) => "object".into(),
            TypeConstraint::Tuple(_) => "tuple".into(),
        }
    }

    /// Converts `value` to this type, or says why it cannot be.
    pub fn convert(&self, value: Value) -> Result<Value, String> {
        if matches!(value, Value::Null | Value::Unknown) {
            return Ok(value);
        }
        match self {
            TypeConstraint::Any => Ok(value),
            TypeConstraint::String => match value {
                Value::String(_) => Ok(value),
                Value::Number(n) => Ok(Value::String(n.to_string())),
                Value::Bool(b) => Ok(Value::String(b.to_string())),
                other => Err(format!("a string is required, but {} was given", other.kind_phrase())),
            },
            TypeConstraint::Number => to_number(&value).map(float_value).map_err(|d| d.summary),
            TypeConstraint::Bool => match value {
                Value::Bool(_) => Ok(value),
                Value::String(s) if s == "true" || s == "false" => Ok(Value::Bool(s == "true")),
                other => Err(format!("a bool is required, but {} was given", describe_value(&other))),
            },
            TypeConstraint::List(inner) => match value {
                Value::List(items) => items
                    .into_iter()
                    .enumerate()
                    .map(|(i, item)| inner.convert(item).map_err(|e| format!("element {i}: {e}")))
                    .collect::<Result<_, _>>()
                    .map(Value::List),
                other => Err(format!("a list is required, but {} was given", other.kind_phrase())),
            },
            TypeConstraint::Map(inner) => match value {
                Value::Object(map) => map
                    .into_iter()
                    .map(|(k, v)| inner.convert(v).map(|v| (k.clone(), v)).map_err(|e| format!("key \"{k}\": {e}")))
                    .collect::<Result<_, _>>()
                    .map(Value::Object),
                other => Err(format!("a map is required, but {} was given", other.kind_phrase())),
            },
            TypeConstraint::Object(fields) => match value {
                Value::Object(mut map) => fields
                    .iter()
                    .map(|(k, field)| {
                        let given = map.remove(k).filter(|v| !v.is_null());
                        let value = match (given, &field.default) {
                            (Some(value), _) => value,
                            (None, Some(default)) => default.clone(),
                            (None, None) if field.optional => Value::Null,
                            (None, None) => return Err(format!("attribute \"{k}\" is required")),
                        };
                        field.ty.convert(value).map(|v| (k.clone(), v)).map_err(|e| format!("attribute \"{k}\": {e}"))
                    })
                    .collect::<Result<_, _>>()
                    .map(Value::Object),
                other => Err(format!("an object is required, but {} was given", other.kind_phrase())),
            },
            TypeConstraint::Tuple(types) => match value {
                Value::List(items) if items.len() == types.len() => {
                    items.into_iter().zip(types).map(|(item, ty)| ty.convert(item)).collect::<Result<_, _>>().map(Value::List)
                }
                other => Err(format!("a tuple of {} elements is required, but {} was given", types.len(), describe_value(&other))),
            },
        }
    }

    /// Whether a `-var name=value` text should be taken as it is rather than parsed as HCL.
    pub fn takes_raw_string(&self) -> bool {
        matches!(self, TypeConstraint::String | TypeConstraint::Any)
    }
}

impl Field {
    /// `TYPE`, `optional(TYPE)` or `optional(TYPE, DEFAULT)` with a literal default (Terraform's
    /// defaults are constants too).
    fn parse(expr: &Expression) -> Result<Field, Diagnostic> {
        let Expression::FuncCall(call) = expr else { return Ok(Field { ty: TypeConstraint::parse(expr)?, optional: false, default: None }) };
        if call.name.name.as_str() != "optional" {
            return Ok(Field { ty: TypeConstraint::parse(expr)?, optional: false, default: None });
        }
        let (ty, default) = match call.args.as_slice() {
            [ty] => (TypeConstraint::parse(ty)?, None),
            [ty, default] => {
                let ty = TypeConstraint::parse(ty)?;
                let value = literal(default).ok_or_else(|| Diagnostic::error("an optional() default must be a literal value").hint("write optional(string, \"value\"), or leave the default out and use coalesce() where the value is read"))?;
                let value = ty.convert(value).map_err(|why| Diagnostic::error(format!("the optional() default does not fit its type: {why}")))?;
                (ty, Some(value))
            }
            _ => return Err(Diagnostic::error("optional() takes a type and an optional default").hint("write optional(string) or optional(number, 5)")),
        };
        Ok(Field { ty, optional: true, default })
    }
}

/// The value of a literal expression (numbers, strings, bools, null, lists and objects of them).
fn literal(expr: &Expression) -> Option<Value> {
    match expr {
        Expression::Null => Some(Value::Null),
        Expression::Bool(b) => Some(Value::Bool(*b)),
        Expression::Number(n) => Some(super::number_value(n)),
        Expression::String(s) => Some(Value::String(s.clone())),
        Expression::TemplateExpr(template) => match template.as_ref() {
            hcl::expr::TemplateExpr::QuotedString(s) if !s.contains("${") && !s.contains("%{") => Some(Value::String(s.clone())),
            _ => None,
        },
        Expression::Array(items) => items.iter().map(literal).collect::<Option<Vec<_>>>().map(Value::List),
        Expression::Object(entries) => entries
            .iter()
            .map(|(key, value)| {
                let key = match key {
                    ObjectKey::Identifier(ident) => ident.as_str().to_owned(),
                    ObjectKey::Expression(Expression::String(s)) => s.clone(),
                    _ => return None,
                };
                Some((key, literal(value)?))
            })
            .collect::<Option<BTreeMap<_, _>>>()
            .map(Value::Object),
        Expression::Operation(op) => match op.as_ref() {
            hcl::expr::Operation::Unary(unary) if unary.operator == hcl::expr::UnaryOperator::Neg => match literal(&unary.expr)? {
                Value::Number(n) => Some(float_value(-n.as_f64()?)),
                _ => None,
            },
            _ => None,
        },
        _ => None,
    }
}

fn describe_value(value: &Value) -> String {
    match value {
        Value::String(s) => format!("\"{s}\""),
        other => other.kind_phrase().to_string(),
    }
}

/// A number from a number or a numeric string.
pub fn to_number(value: &Value) -> Result<f64, Diagnostic> {
    match value {
        Value::Number(n) => n.as_f64().ok_or_else(|| Diagnostic::error("number out of range")),
        Value::String(s) => s.trim().parse::<f64>().map_err(|_| Diagnostic::error(format!("a number is required, but \"{s}\" was given"))),
        other => Err(Diagnostic::error(format!("a number is required, but {} was given", other.kind_phrase()))),
    }
}
