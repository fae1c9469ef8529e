//! The parse result as JSON (`dockreorder parse --format json`).

use serde_json::{Value, json};

use super::node::{Arg, Node};
use super::parser::{ItemKind, Parse};
use crate::source::SourceFile;

fn node_json(node: &Node) -> Value {
    let args: Vec<Value> = node
        .args
        .iter()
        .map(|a| match a {
            Arg::Str(s) => Value::String(s.clone()),
            Arg::Sub(child) => node_json(child),
        })
        .collect();
    json!({
        "keyword": node.keyword,
        "kind": node.kind.as_str(),
        "flags": node.flags,
        "args": args,
        "form": if node.json { "json" } else { "shell" },
    })
}

/// Every item with its byte and line range; instructions with kind, flags,
/// arguments, form and heredocs.
pub fn parse_to_json(source: &SourceFile, parse: &Parse) -> Value {
    let items: Vec<Value> = parse
        .items
        .iter()
        .map(|item| {
            let mut v = json!({
                "bytes": [item.span.start, item.span.end],
                "lines": [item.lines.start, item.lines.end],
            });
            let extra = match &item.kind {
                ItemKind::Bom => json!({"type": "bom"}),
                ItemKind::Comment => json!({"type": "comment"}),
                ItemKind::Blank => json!({"type": "blank"}),
                ItemKind::Directive(d) => {
                    json!({"type": "directive", "name": d.name, "value": d.value})
                }
                ItemKind::Invalid { message } => json!({"type": "invalid", "message": message}),
                ItemKind::Instruction(ins) => {
                    let mut n = node_json(&ins.node);
                    n["type"] = json!("instruction");
                    n["original"] = json!(ins.original);
                    n["heredocs"] = json!(ins.heredocs);
                    n
                }
            };
            if let (Some(obj), Value::Object(e)) = (v.as_object_mut(), extra) {
                obj.extend(e);
            }
            v
        })
        .collect();
    json!({
        "path": source.path,
        "line_ending": source.line_ending,
        "bom": source.bom,
        "final_newline": source.final_newline,
        "escape": parse.escape.to_string(),
        "directives": parse.directives,
        "items": items,
        "warnings": parse.warnings,
        "errors": parse.errors,
    })
}
