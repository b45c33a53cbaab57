//! Prometheus' templates for alert labels and annotations: Go `text/template` syntax through
//! the `gotmpl` crate, Prometheus' function set ([`funcs`]) and Go's value printing ([`gofmt`]).
//!
//! Two differences between `gotmpl` and Go are bridged here by rewriting the parsed tree:
//! every printing action gets a final `__pharos_print` command, which prints a missing map
//! entry as `""` (Go's `missingkey=zero` on `map[string]string`) and floats as Go's `%v`.
//! Functions are checked at parse time, as Go does (`function "x" not defined`).

pub mod funcs;
pub mod gofmt;

use std::collections::BTreeMap;
use std::sync::Arc;

use gotmpl::parse::{CommandNode, Expr, ListNode, Node, Parser, PipeNode};
use gotmpl::{FuncMap, MissingKey, Template, Value};
use model::Labels;

pub use funcs::FuncContext;

/// The declarations Prometheus prepends to every alert label and annotation template.
pub const ALERT_DEFS: &str = "{{$labels := .Labels}}{{$externalLabels := .ExternalLabels}}{{$externalURL := .ExternalURL}}{{$value := .Value}}";

const PRINT: &str = "__pharos_print";
const ZERO: &str = "__pharos_zero";

/// A label set as a template map.
pub fn labels_value(l: &Labels) -> Value {
    let m: BTreeMap<Arc<str>, Value> = l
        .iter()
        .map(|l| (Arc::from(l.name.as_str()), Value::String(Arc::from(l.value.as_str()))))
        .collect();
    Value::Map(Arc::new(m))
}

/// The data of an alert template (`.Labels`, `.ExternalLabels`, `.ExternalURL`, `.Value`).
pub fn alert_data(
    labels: &Labels,
    external_labels: &Labels,
    external_url: &str,
    value: f64,
) -> Value {
    let mut m: BTreeMap<Arc<str>, Value> = BTreeMap::new();
    m.insert("Labels".into(), labels_value(labels));
    m.insert("ExternalLabels".into(), labels_value(external_labels));
    m.insert("ExternalURL".into(), Value::String(external_url.into()));
    m.insert("Value".into(), Value::Float(value));
    Value::Map(Arc::new(m))
}

/// Go reports template syntax errors as `template: NAME:LINE: msg`, without a column.
fn go_parse_error(name: &str, e: &gotmpl::TemplateError) -> String {
    let msg = e.to_string();
    let prefix = format!("template: {name}:");
    let Some(rest) = msg.strip_prefix(&prefix) else { return msg };
    let mut parts = rest.splitn(3, ':');
    match (parts.next(), parts.next(), parts.next()) {
        (Some(line), Some(col), Some(tail)) if col.bytes().all(|b| b.is_ascii_digit()) => {
            format!("{prefix}{line}:{tail}")
        }
        _ => msg,
    }
}

fn parse_tree(name: &str, text: &str) -> Result<(ListNode, Vec<(String, ListNode)>), String> {
    let parser =
        Parser::with_name(Some(name), text, "{{", "}}").map_err(|e| go_parse_error(name, &e))?;
    let (mut tree, defines) = parser.parse().map_err(|e| go_parse_error(name, &e))?;
    let known = funcs::known_names();
    check_list(&tree, name, &known)?;
    rewrite_list(&mut tree);
    let mut out = Vec::new();
    for mut d in defines {
        check_list(&d.body, name, &known)?;
        rewrite_list(&mut d.body);
        out.push((d.name.to_string(), d.body));
    }
    Ok((tree, out))
}

/// Parses a template as `promtool check rules` does; the error reads like Go's.
pub fn parse_test(name: &str, text: &str) -> Result<(), String> {
    let full = format!("{ALERT_DEFS}{text}");
    parse_tree(name, &full).map(|_| ())
}

/// Expands `text` with `data`; errors read `error parsing template NAME: ...` or
/// `error executing template NAME: ...` as Prometheus' `Expander.Expand`.
pub fn expand(name: &str, text: &str, data: &Value, ctx: &FuncContext) -> Result<String, String> {
    let (tree, defines) =
        parse_tree(name, text).map_err(|e| format!("error parsing template {name}: {e}"))?;
    let mut t = Template::new(name).missing_key(MissingKey::ZeroValue).funcs(full_func_map(ctx));
    for (n, body) in defines {
        t = t.add_parse_tree(&n, body);
    }
    t = t.add_parse_tree(name, tree);
    t.execute_template_to_string(name, data)
        .map_err(|e| format!("error executing template {name}: {}", go_exec_error(name, &e)))
}

fn full_func_map(ctx: &FuncContext) -> FuncMap {
    let mut fm: FuncMap = funcs::func_map(ctx);
    fm.insert(PRINT.into(), Arc::new(print_value));
    fm.insert(
        ZERO.into(),
        Arc::new(|args: &[Value]| {
            Ok(match args.first() {
                None | Some(Value::Nil) => Value::String("".into()),
                Some(v) => v.clone(),
            })
        }),
    );
    fm
}

enum Item {
    /// No action at all: the text expands to itself.
    Plain(String),
    /// Registered in the expander's template under `key`.
    Parsed { key: String },
    /// Failed to parse: the annotation text for every alert.
    Broken(String),
}

/// The label and annotation templates of one alerting rule, parsed once.
pub struct AlertTemplates {
    name: String,
    items: Vec<Item>,
    trees: Vec<(String, ListNode)>,
}

impl std::fmt::Debug for AlertTemplates {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AlertTemplates").field("name", &self.name).finish_non_exhaustive()
    }
}

impl AlertTemplates {
    /// Parses `texts` (with the `$labels`, `$value`, ... declarations) as template `name`.
    pub fn new<'a>(name: &str, texts: impl IntoIterator<Item = &'a str>) -> AlertTemplates {
        let mut items = Vec::new();
        let mut trees = Vec::new();
        for (i, text) in texts.into_iter().enumerate() {
            if !text.contains("{{") {
                items.push(Item::Plain(text.to_string()));
                continue;
            }
            match parse_tree(name, &format!("{ALERT_DEFS}{text}")) {
                Ok((tree, defines)) => {
                    let key = format!("{name}\u{1f}{i}");
                    trees.extend(defines);
                    trees.push((key.clone(), tree));
                    items.push(Item::Parsed { key });
                }
                Err(e) => items.push(Item::Broken(format!(
                    "<error expanding template: error parsing template {name}: {e}>"
                ))),
            }
        }
        AlertTemplates { name: name.to_string(), items, trees }
    }

    /// An expander for one evaluation (the functions see `ctx`'s time and query function).
    pub fn expander(&self, ctx: &FuncContext) -> AlertExpander<'_> {
        let tmpl = (!self.trees.is_empty()).then(|| {
            let mut t = Template::new(&self.name)
                .missing_key(MissingKey::ZeroValue)
                .funcs(full_func_map(ctx));
            for (key, tree) in &self.trees {
                t = t.add_parse_tree(key, tree.clone());
            }
            t
        });
        AlertExpander { templates: self, tmpl }
    }
}

/// Expands the templates of one rule during one evaluation.
pub struct AlertExpander<'a> {
    templates: &'a AlertTemplates,
    tmpl: Option<Template>,
}

impl AlertExpander<'_> {
    /// Expands text number `i` for one alert; errors become `<error expanding template: ...>`.
    pub fn expand(&self, i: usize, data: &Value) -> String {
        let name = &self.templates.name;
        match (&self.templates.items.get(i), &self.tmpl) {
            (Some(Item::Plain(s)), _) | (Some(Item::Broken(s)), _) => s.clone(),
            (Some(Item::Parsed { key }), Some(t)) => {
                match t.execute_template_to_string(key, data) {
                    Ok(s) => s,
                    Err(e) => {
                        let e = go_exec_error(name, &e);
                        tracing::warn!(template = %name, err = %e, "expanding alert template failed");
                        format!("<error expanding template: error executing template {name}: {e}>")
                    }
                }
            }
            _ => String::new(),
        }
    }
}

/// Expands an alert label or annotation as Prometheus does, with the `$labels`, `$value`, ...
/// declarations; an error becomes the text `<error expanding template: ...>`.
pub fn expand_alert_text(name: &str, text: &str, data: &Value, ctx: &FuncContext) -> String {
    let full = format!("{ALERT_DEFS}{text}");
    match expand(name, &full, data, ctx) {
        Ok(s) => s,
        Err(e) => {
            tracing::warn!(template = name, err = %e, "expanding alert template failed");
            format!("<error expanding template: {e}>")
        }
    }
}

fn go_exec_error(name: &str, e: &gotmpl::TemplateError) -> String {
    format!("template: {name}: {e}")
}

fn print_value(args: &[Value]) -> gotmpl::Result<Value> {
    Ok(match args.last() {
        None | Some(Value::Nil) => Value::String("".into()),
        Some(Value::Float(f)) => Value::String(gofmt::format_g(*f, None).into()),
        Some(other) => other.clone(),
    })
}

fn rewrite_list(list: &mut ListNode) {
    for node in &mut list.nodes {
        match node {
            Node::List(l) => rewrite_list(l),
            Node::Action(a) => {
                zero_fields(&mut a.pipe);
                if a.pipe.decl.is_empty() {
                    let pos = a.pipe.pos;
                    a.pipe
                        .commands
                        .push(CommandNode { pos, args: vec![Expr::Identifier(pos, PRINT.into())] });
                }
            }
            Node::If(b) | Node::Range(b) | Node::With(b) => {
                zero_fields(&mut b.pipe);
                rewrite_list(&mut b.body);
                if let Some(e) = &mut b.else_body {
                    rewrite_list(e);
                }
            }
            Node::Define(d) => rewrite_list(&mut d.body),
            _ => {}
        }
    }
}

/// Wraps every field access (`.Labels.x`, `$labels.x`) in `__pharos_zero`, so a missing
/// map entry is `""` as Go's `missingkey=zero` gives for `map[string]string`, also when it
/// is compared (`eq $labels.x "y"`) or passed to a function.
fn zero_fields(p: &mut PipeNode) {
    for c in &mut p.commands {
        for a in &mut c.args {
            zero_expr(a);
        }
    }
}

fn zero_expr(e: &mut Expr) {
    let wrap = match e {
        Expr::Field(_, f) | Expr::Variable(_, _, f) | Expr::Chain(_, _, f) => !f.is_empty(),
        Expr::Pipe(_, p) => {
            zero_fields(p);
            false
        }
        _ => false,
    };
    if wrap {
        let pos = e.pos();
        let inner = std::mem::replace(e, Expr::Nil(pos));
        let cmd = CommandNode { pos, args: vec![Expr::Identifier(pos, ZERO.into()), inner] };
        *e = Expr::Pipe(
            pos,
            PipeNode { pos, decl: Vec::new(), commands: vec![cmd], is_assign: false },
        );
    }
}

fn check_list(list: &ListNode, name: &str, known: &[&str]) -> Result<(), String> {
    for node in &list.nodes {
        match node {
            Node::List(l) => check_list(l, name, known)?,
            Node::Action(a) => check_pipe(&a.pipe, name, known)?,
            Node::If(b) | Node::Range(b) | Node::With(b) => {
                check_pipe(&b.pipe, name, known)?;
                check_list(&b.body, name, known)?;
                if let Some(e) = &b.else_body {
                    check_list(e, name, known)?;
                }
            }
            Node::Template(t) => {
                if let Some(p) = &t.pipe {
                    check_pipe(p, name, known)?;
                }
            }
            Node::Define(d) => check_list(&d.body, name, known)?,
            _ => {}
        }
    }
    Ok(())
}

fn check_pipe(p: &PipeNode, name: &str, known: &[&str]) -> Result<(), String> {
    for c in &p.commands {
        for a in &c.args {
            check_expr(a, name, known)?;
        }
    }
    Ok(())
}

fn check_expr(e: &Expr, name: &str, known: &[&str]) -> Result<(), String> {
    match e {
        Expr::Identifier(pos, id) if !known.contains(&id.as_str()) => {
            Err(format!("template: {name}:{}: function {:?} not defined", pos.line, id.as_str()))
        }
        Expr::Pipe(_, p) => check_pipe(p, name, known),
        Expr::Chain(_, inner, _) => check_expr(inner, name, known),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ctx() -> FuncContext {
        FuncContext { query: None, ts_ms: 0, external_url: "http://x:9090/p".into() }
    }

    fn exp(text: &str, value: f64) -> String {
        let labels = Labels::new([("instance", "a:1"), ("job", "j")]);
        let data = alert_data(&labels, &Labels::new([("dc", "eu")]), "http://x:9090/p", value);
        expand_alert_text("__alert_T", text, &data, &ctx())
    }

    #[test]
    fn variables_and_go_printing() {
        assert_eq!(exp("{{ $labels.instance }} is {{ $value }}", 1234567.0), "a:1 is 1.234567e+06");
        assert_eq!(exp("[{{ $labels.missing }}]", 1.0), "[]");
        assert_eq!(exp("{{ if eq $labels.missing \"\" }}empty{{ end }}", 1.0), "empty");
        assert_eq!(
            exp("{{ if ne .Labels.job \"x\" }}{{ .Labels.job | toUpper }}{{ end }}", 1.0),
            "J"
        );
        assert_eq!(
            exp("{{ range $k, $v := $labels }}{{ $k }}={{ $v }};{{ end }}", 1.0),
            "instance=a:1;job=j;"
        );
        assert_eq!(exp("{{ with $labels.nope }}x{{ else }}none{{ end }}", 1.0), "none");
        assert_eq!(exp("{{ $externalLabels.dc }} {{ $externalURL }}", 1.0), "eu http://x:9090/p");
        assert_eq!(exp("{{ $value | humanize }}", 1234567.0), "1.235M");
        assert_eq!(exp("{{ if gt $value 1.0 }}big{{ else }}small{{ end }}", 2.0), "big");
        assert_eq!(exp("{{ printf \"%.2f\" $value }}", 0.123), "0.12");
    }

    #[test]
    fn rule_templates_are_parsed_once_and_expanded_per_alert() {
        let t = AlertTemplates::new(
            "__alert_T",
            ["page", "{{ $labels.job }}!", "{{ oops", "{{ humanize \"x\" }}"],
        );
        let e = t.expander(&ctx());
        let data = alert_data(&Labels::new([("job", "j")]), &Labels::empty(), "", 1.0);
        assert_eq!(e.expand(0, &data), "page");
        assert_eq!(e.expand(1, &data), "j!");
        assert!(e.expand(2, &data).starts_with(
            "<error expanding template: error parsing template __alert_T: template: __alert_T:1:"
        ));
        assert!(
            e.expand(3, &data)
                .starts_with("<error expanding template: error executing template __alert_T:")
        );
        let other = alert_data(&Labels::new([("job", "k")]), &Labels::empty(), "", 1.0);
        assert_eq!(e.expand(1, &other), "k!");
    }

    #[test]
    fn errors_show_in_the_text() {
        let s = exp("{{ nope }}", 1.0);
        assert!(s.starts_with("<error expanding template: error parsing template __alert_T: template: __alert_T:1: function \"nope\" not defined"), "{s}");
        let s = exp("{{ humanize \"x\" }}", 1.0);
        assert!(
            s.starts_with("<error expanding template: error executing template __alert_T:"),
            "{s}"
        );
        assert!(parse_test("__alert_T", "{{ $labels.x }").is_err());
        assert!(parse_test("__alert_T", "{{ $labels.x | toUpper }}").is_ok());
    }
}
