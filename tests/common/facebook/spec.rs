//! Meta's Graph API spec files for Pages as a checker: parameter names, types and enums of each
//! edge operation, and the fields of each node.
//!
//! The files are Meta's own (facebook/facebook-business-sdk-codegen `api_specs/specs/`: Page.json,
//! PagePost.json, User.json, enum_types.json, version.txt), copied to
//! `../shared/specs/facebook-graph/`. Their licence (Meta's platform licence) keeps them out of
//! this repository: they are read where they are, and without them the server still runs, says
//! so, and checks only the rules written in code. Their format is the codegen's own:
//! `{apis: [{method, endpoint | name, return, params: [{name, required, type}]}], fields: [{name,
//! type}]}`; enum types resolve through enum_types.json's `{name, values}`.

use std::collections::HashMap;

use serde_json::Value;

use super::super::loopback::shared_file;

const DIR: &str = "specs/facebook-graph/api_specs/specs";

#[derive(Debug, Clone)]
pub struct Param {
    pub name: String,
    pub required: bool,
    pub ty: String,
}

#[derive(Debug, Clone)]
pub struct Api {
    pub method: String,
    /// The edge (`feed`), or the node's own operation (`#get`, `#update`, `#delete`).
    pub endpoint: String,
    pub params: Vec<Param>,
}

#[derive(Debug, Default)]
pub struct Node {
    pub apis: Vec<Api>,
    pub fields: Vec<(String, String)>,
}

pub struct GraphSpec {
    nodes: HashMap<String, Node>,
    enums: HashMap<String, Vec<String>>,
    pub version: String,
}

impl GraphSpec {
    /// The spec files, if ../shared holds them.
    pub fn load() -> Option<GraphSpec> {
        let read = |name: &str| -> Option<Value> {
            let path = shared_file(&format!("{DIR}/{name}"))?;
            let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            Some(serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display())))
        };
        let mut nodes = HashMap::new();
        for node in ["Page", "PagePost", "User"] {
            nodes.insert(node.to_string(), parse_node(&read(&format!("{node}.json"))?));
        }
        let enums = read("enum_types.json")?
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|e| {
                let values = e["values"].as_array()?.iter().filter_map(|v| v.as_str().map(str::to_string)).collect();
                Some((e["name"].as_str()?.to_string(), values))
            })
            .collect();
        let version_path = shared_file(&format!("{DIR}/version.txt"))?;
        let version = std::fs::read_to_string(&version_path).ok()?.trim().to_string();
        Some(GraphSpec { nodes, enums, version })
    }

    /// The operation `method` on `node`'s `endpoint` (`feed`, or `#get` for the node itself).
    pub fn api(&self, node: &str, method: &str, endpoint: &str) -> Option<&Api> {
        self.nodes.get(node)?.apis.iter().find(|a| a.method.eq_ignore_ascii_case(method) && a.endpoint == endpoint)
    }

    /// Whether `node` has an edge `name` that can be read (`GET {node}/{name}`).
    pub fn has_edge(&self, node: &str, name: &str) -> bool {
        self.api(node, "GET", name).is_some()
    }

    /// A field's type on `node`.
    pub fn field(&self, node: &str, name: &str) -> Option<&str> {
        self.nodes.get(node)?.fields.iter().find(|(n, _)| n == name).map(|(_, t)| t.as_str())
    }

    /// Everything wrong with `params` for `api`: unknown names and ill-typed values, each naming
    /// the spec file and the operation. `extra` names are Graph-wide (`access_token`, …).
    pub fn check(&self, node: &str, api: &Api, params: &[(String, Value)], extra: &[&str]) -> Vec<String> {
        let at = format!("{node}.json {} {}", api.method, api.endpoint);
        let mut out = Vec::new();
        for (name, value) in params {
            if extra.contains(&name.as_str()) {
                continue;
            }
            let Some(p) = api.params.iter().find(|p| &p.name == name) else {
                out.push(format!("unknown parameter {name:?}: {at} has no such parameter"));
                continue;
            };
            if let Err(why) = self.value_ok(&p.ty, value) {
                out.push(format!("parameter {name} = {value}: {why} ({at} types it {})", p.ty));
            }
        }
        for p in api.params.iter().filter(|p| p.required) {
            if !params.iter().any(|(n, _)| n == &p.name) {
                out.push(format!("required parameter {} is missing ({at})", p.name));
            }
        }
        out
    }

    /// Whether `value` (a JSON value, or a string as a query or form carries it) fits `ty`.
    fn value_ok(&self, ty: &str, value: &Value) -> Result<(), String> {
        let raw = super::super::meta::text(value);
        if let Some(inner) = ty.strip_prefix("list<").and_then(|t| t.strip_suffix('>')) {
            let items: Vec<Value> = match value {
                Value::Array(a) => a.clone(),
                _ => match serde_json::from_str::<Value>(&raw) {
                    Ok(Value::Array(a)) => a,
                    // Graph also reads a comma-separated list for list parameters.
                    _ => raw.split(',').map(|s| Value::String(s.trim().to_string())).collect(),
                },
            };
            return items.iter().try_for_each(|i| self.value_ok(inner, i));
        }
        let ok = match ty {
            "string" => value.is_string() || value.is_number(),
            "bool" => value.is_boolean() || matches!(raw.as_str(), "true" | "false" | "1" | "0"),
            "unsigned int" => value.is_u64() || (!raw.is_empty() && raw.chars().all(|c| c.is_ascii_digit())),
            "int" => value.is_i64() || raw.trim_start_matches('-').parse::<u64>().is_ok(),
            "float" => value.is_number() || raw.parse::<f64>().is_ok(),
            // A Unix time, or a date and time strtotime() reads; ISO 8601 is the one checked here.
            "datetime" => {
                raw.chars().all(|c| c.is_ascii_digit()) && !raw.is_empty()
                    || chrono::DateTime::parse_from_rfc3339(&raw).is_ok()
                    || chrono::DateTime::parse_from_str(&raw, "%Y-%m-%dT%H:%M:%S%z").is_ok()
                    || chrono::NaiveDate::parse_from_str(&raw, "%Y-%m-%d").is_ok()
            }
            "list" => value.is_array() || serde_json::from_str::<Value>(&raw).is_ok_and(|v| v.is_array()),
            "map" | "Object" => {
                value.is_object() || serde_json::from_str::<Value>(&raw).is_ok_and(|v| v.is_object()) || ty == "Object"
            }
            "file" => true,
            enum_type if self.enums.contains_key(enum_type) => {
                let allowed = &self.enums[enum_type];
                if allowed.contains(&raw) {
                    true
                } else {
                    return Err(format!("not one of {allowed:?} (enum_types.json {enum_type})"));
                }
            }
            // A node type (Targeting, Place…): a JSON object or an id.
            _ => true,
        };
        if ok {
            Ok(())
        } else {
            Err(format!("not a valid {ty}"))
        }
    }
}

fn parse_node(doc: &Value) -> Node {
    let apis = doc["apis"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|a| Api {
            method: a["method"].as_str().unwrap_or_default().to_string(),
            endpoint: a["endpoint"].as_str().or_else(|| a["name"].as_str()).unwrap_or_default().to_string(),
            params: a["params"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|p| Param {
                    name: p["name"].as_str().unwrap_or_default().to_string(),
                    required: p["required"] == true,
                    ty: p["type"].as_str().unwrap_or_default().to_string(),
                })
                .collect(),
        })
        .collect();
    let fields = doc["fields"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|f| {
            (f["name"].as_str().unwrap_or_default().to_string(), f["type"].as_str().unwrap_or_default().to_string())
        })
        .collect();
    Node { apis, fields }
}
