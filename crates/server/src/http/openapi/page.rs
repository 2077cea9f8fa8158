//! `GET /openapi`: the three documents as one readable HTML page, rendered on the server from
//! the same JSON that is served, so it shows exactly what tools see. Self-contained (one inline
//! stylesheet, no scripts or external assets) so it works offline, like WeChat's own docs
//! pages are meant to be read next to the code.
//!
//! Each operation gets an anchor `op-<doc>-<operationId>` and each schema `schema-<doc>-<name>`;
//! `$ref`s become links to the schema's anchor, the table of contents links every operation.

use maud::{html, Markup, PreEscaped, DOCTYPE};
use serde_json::Value;

/// One document on the page: its short name (anchors, file name) and its JSON.
pub struct Doc<'a> {
    pub key: &'a str,
    pub json_path: &'a str,
    pub value: &'a Value,
}

const STYLE: &str = r#"
*{box-sizing:border-box}
body{margin:0;color:#191919;background:#fafafa;font:15px/1.5 -apple-system,BlinkMacSystemFont,"Segoe UI",Roboto,"Noto Sans",Arial,sans-serif}
.wrap{max-width:1040px;margin:0 auto;padding:16px 20px 48px}
h1{font-size:24px;margin:8px 0}
h2{font-size:20px;margin:32px 0 8px;border-bottom:2px solid #07C160;padding-bottom:4px}
h3{font-size:16px;margin:0 0 6px;overflow-wrap:anywhere}
h4{font-size:14px;margin:12px 0 4px;color:#4c4c4c}
.op{background:#fff;border:1px solid #e5e5e5;border-radius:8px;padding:14px 16px;margin:12px 0}
.m{display:inline-block;min-width:56px;text-align:center;border-radius:4px;color:#fff;font-size:12px;font-weight:700;padding:2px 6px;margin-right:8px}
.get{background:#1677ff}.post{background:#07C160}.put{background:#fa8c16}.delete{background:#fa5151}
code,.mono{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-size:.92em}
table{border-collapse:collapse;width:100%;margin:4px 0}
th,td{border-bottom:1px solid #f0f0f0;text-align:left;vertical-align:top;padding:4px 8px;overflow-wrap:anywhere}
th{color:#7f7f7f;font-weight:600;font-size:13px}
.muted{color:#7f7f7f}
ul.toc{columns:2;padding-left:18px}
a{color:#06AD56}
"#;

/// The whole page.
pub fn render(docs: &[Doc]) -> Markup {
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { "papay API documents" }
                style { (PreEscaped(STYLE)) }
            }
            body { div.wrap {
                h1 { "papay API documents" }
                p.muted { "OpenAPI 3.1, generated from papay's code. The JSON documents: "
                    @for (i, d) in docs.iter().enumerate() {
                        @if i > 0 { ", " }
                        a href=(d.json_path) { code { (d.json_path) } }
                    }
                    "." }
                @for d in docs { (toc(d)) }
                @for d in docs { (document(d)) }
            } }
        }
    }
}

/// The `(path, method, operation)` triples of a document, in path order.
pub fn operations(doc: &Value) -> Vec<(&str, &str, &Value)> {
    let mut out = Vec::new();
    for (path, item) in doc["paths"].as_object().into_iter().flatten() {
        for (method, op) in item.as_object().into_iter().flatten() {
            if ["get", "put", "post", "delete", "patch"].contains(&method.as_str()) {
                out.push((path.as_str(), method.as_str(), op));
            }
        }
    }
    out
}

/// The anchor of an operation: its `operationId`, else its method and path.
pub fn op_anchor(key: &str, path: &str, method: &str, op: &Value) -> String {
    let id = op["operationId"]
        .as_str()
        .map(str::to_string)
        .unwrap_or_else(|| format!("{method}{path}"));
    let slug: String = id
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' || c == '-' {
                c
            } else {
                '-'
            }
        })
        .collect();
    format!("op-{key}-{slug}")
}

fn schema_anchor(key: &str, name: &str) -> String {
    format!("schema-{key}-{name}")
}

fn title(doc: &Value) -> &str {
    doc["info"]["title"].as_str().unwrap_or("API")
}

fn toc(d: &Doc) -> Markup {
    html! {
        h4 { a href={ "#doc-" (d.key) } { (title(d.value)) } }
        ul.toc {
            @for (path, method, op) in operations(d.value) {
                li { a href={ "#" (op_anchor(d.key, path, method, op)) } {
                    span.mono { (method.to_uppercase()) " " (path) }
                } }
            }
        }
    }
}

fn document(d: &Doc) -> Markup {
    let schemas = d.value["components"]["schemas"].as_object();
    html! {
        h2 id={ "doc-" (d.key) } { (title(d.value)) }
        @if let Some(text) = d.value["info"]["description"].as_str() { p { (text) } }
        @if let Some(schemes) = d.value["components"]["securitySchemes"].as_object() {
            @for (name, scheme) in schemes {
                p { "Security " code { (name) } ": "
                    @if let Some(header) = scheme["name"].as_str() { "header " code { (header) } ". " }
                    @if let Some(s) = scheme["scheme"].as_str() { code { (s) } " scheme. " }
                    (scheme["description"].as_str().unwrap_or("")) }
            }
        }
        @for (path, method, op) in operations(d.value) { (operation(d.key, path, method, op)) }
        @if let Some(schemas) = schemas {
            h3 { "Schemas" }
            @for (name, schema) in schemas {
                div.op id=(schema_anchor(d.key, name)) {
                    h3.mono { (name) }
                    (schema_view(d.key, schema))
                }
            }
        }
    }
}

fn operation(key: &str, path: &str, method: &str, op: &Value) -> Markup {
    let params = op["parameters"].as_array();
    html! {
        div.op id=(op_anchor(key, path, method, op)) {
            h3 { span class={ "m " (method) } { (method.to_uppercase()) } span.mono { (path) } }
            @if let Some(s) = op["summary"].as_str() { p { strong { (s) } } }
            @if let Some(s) = op["description"].as_str() { p { (s) } }
            @if let Some(params) = params.filter(|p| !p.is_empty()) {
                h4 { "Parameters" }
                table {
                    tr { th { "name" } th { "in" } th { "required" } th { "schema" } th { "description" } }
                    @for p in params {
                        tr {
                            td.mono { (p["name"].as_str().unwrap_or("")) }
                            td { (p["in"].as_str().unwrap_or("")) }
                            td { @if p["required"].as_bool() == Some(true) { "yes" } @else { "no" } }
                            td { (type_of(key, &p["schema"])) }
                            td { (p["description"].as_str().or(p["schema"]["description"].as_str()).unwrap_or("")) }
                        }
                    }
                }
            }
            @if let Some(content) = op["requestBody"]["content"].as_object() {
                h4 { "Request body" }
                table {
                    tr { th { "media type" } th { "schema" } }
                    @for (media, c) in content { tr { td.mono { (media) } td { (type_of(key, &c["schema"])) } } }
                }
            }
            h4 { "Responses" }
            table {
                tr { th { "status" } th { "description" } th { "body" } th { "headers" } }
                @for (status, r) in op["responses"].as_object().into_iter().flatten() {
                    tr {
                        td.mono { (status) }
                        td { (r["description"].as_str().unwrap_or("")) }
                        td { @for (media, c) in r["content"].as_object().into_iter().flatten() {
                            span.mono { (media) } " " (type_of(key, &c["schema"])) br;
                        } }
                        td { @for (name, h) in r["headers"].as_object().into_iter().flatten() {
                            span.mono { (name) } @if h["required"].as_bool() == Some(true) { " (always)" } br;
                        } }
                    }
                }
            }
        }
    }
}

/// A schema's type in one line: a link for a `$ref`, else its type with its constraints.
fn type_of(key: &str, schema: &Value) -> Markup {
    if let Some(r) = schema["$ref"].as_str() {
        let name = r.rsplit('/').next().unwrap_or(r);
        return html! { a.mono href={ "#" (schema_anchor(key, name)) } { (name) } };
    }
    for combinator in ["allOf", "oneOf", "anyOf"] {
        if let Some(parts) = schema[combinator].as_array() {
            return html! {
                (combinator) " ["
                @for (i, part) in parts.iter().enumerate() { @if i > 0 { ", " } (type_of(key, part)) }
                "]"
            };
        }
    }
    let ty = match &schema["type"] {
        Value::String(s) => s.clone(),
        Value::Array(types) => types.iter().filter_map(Value::as_str).collect::<Vec<_>>().join(" | "),
        _ => "any".into(),
    };
    let mut notes = Vec::new();
    if let Some(items) = schema.get("items") {
        return html! { "array of " (type_of(key, items)) };
    }
    for k in ["format", "pattern", "minLength", "maxLength", "minimum", "maximum"] {
        if let Some(v) = schema.get(k) {
            notes.push(format!(
                "{k} {}",
                v.as_str().map(str::to_string).unwrap_or_else(|| v.to_string())
            ));
        }
    }
    if let Some(values) = schema["enum"].as_array() {
        let list: Vec<String> = values
            .iter()
            .map(|v| v.as_str().map(str::to_string).unwrap_or_else(|| v.to_string()))
            .collect();
        notes.push(format!("one of {}", list.join(", ")));
    }
    html! { span.mono { (ty) } @if !notes.is_empty() { " " span.muted { "(" (notes.join("; ")) ")" } } }
}

/// A schema's properties as a table (or its type when it has none).
fn schema_view(key: &str, schema: &Value) -> Markup {
    if let Some(parts) = schema["allOf"].as_array() {
        return html! { @for part in parts { (schema_view(key, part)) } };
    }
    let Some(properties) = schema["properties"].as_object() else {
        return html! { p { (type_of(key, schema)) } };
    };
    let required: Vec<&str> = schema["required"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .collect();
    html! {
        @if let Some(d) = schema["description"].as_str() { p { (d) } }
        @if let Some(x) = schema["xml"]["name"].as_str() { p.muted { "XML root element " code { "<" (x) ">" } ", one child element per property." } }
        table {
            tr { th { "property" } th { "type" } th { "required" } th { "description" } }
            @for (name, p) in properties {
                tr {
                    td.mono { (name) }
                    td { (type_of(key, p)) }
                    td { @if required.contains(&name.as_str()) { "yes" } @else { "no" } }
                    td { (p["description"].as_str().unwrap_or("")) }
                }
            }
        }
    }
}
