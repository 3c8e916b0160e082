//! Template strip markers (`${~ x ~}`, `%{ for ... ~}`): the whitespace they remove from the
//! literal text next to them, applied to a parsed template before it is rendered.

use hcl::template::{Directive, Element, Template};

/// Removes the whitespace each strip marker in `template` (and the templates nested in its
/// directives) asks to remove.
pub(crate) fn apply_strip_markers(template: &mut Template) {
    let elements = template.elements_mut();
    for i in 0..elements.len() {
        let (before, after) = strip_around(&mut elements[i]);
        if before && i > 0 {
            trim_literal(&mut elements[i - 1], str::trim_end);
        }
        if after && i + 1 < elements.len() {
            trim_literal(&mut elements[i + 1], str::trim_start);
        }
    }
}

/// Whether the element strips the literal before it and the literal after it; strips inside
/// the bodies of directives on the way.
fn strip_around(element: &mut Element) -> (bool, bool) {
    match element {
        Element::Literal(_) => (false, false),
        Element::Interpolation(interpolation) => (interpolation.strip.strip_start(), interpolation.strip.strip_end()),
        Element::Directive(directive) => match directive.as_mut() {
            Directive::For(for_directive) => {
                strip_body(&mut for_directive.template, for_directive.for_strip.strip_end(), for_directive.endfor_strip.strip_start());
                (for_directive.for_strip.strip_start(), for_directive.endfor_strip.strip_end())
            }
            Directive::If(if_directive) => {
                let (if_strip, else_strip, endif_strip) = (if_directive.if_strip, if_directive.else_strip, if_directive.endif_strip);
                let has_else = if_directive.false_template.is_some();
                let true_end = if has_else { else_strip.strip_start() } else { endif_strip.strip_start() };
                strip_body(&mut if_directive.true_template, if_strip.strip_end(), true_end);
                if let Some(false_template) = &mut if_directive.false_template {
                    strip_body(false_template, else_strip.strip_end(), endif_strip.strip_start());
                }
                (if_strip.strip_start(), endif_strip.strip_end())
            }
        },
    }
}

fn strip_body(body: &mut Template, start: bool, end: bool) {
    apply_strip_markers(body);
    let elements = body.elements_mut();
    if start {
        if let Some(first) = elements.first_mut() {
            trim_literal(first, str::trim_start);
        }
    }
    if end {
        if let Some(last) = elements.last_mut() {
            trim_literal(last, str::trim_end);
        }
    }
}

fn trim_literal(element: &mut Element, trim: fn(&str) -> &str) {
    if let Element::Literal(text) = element {
        *text = trim(text).to_owned();
    }
}
