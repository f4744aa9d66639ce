//! X's OpenAPI document as a checker, for the X test server: a request against its operation
//! (method, path template and path parameters, query parameters, security scheme, JSON body) and
//! a response against the operation's response schema.
//!
//! The document is X's own (`https://api.x.com/2/openapi.json`, copied to
//! `../shared/specs/x-openapi/openapi.json`). It carries no open licence ("X Developer Agreement
//! and Policy"), so it is read where it is and not committed; without it the test server still
//! runs, and says that its requests and answers went unchecked.
//!
//! Schemas are OpenAPI 3.0's: `$ref`, `type`, `nullable`, `enum`, `pattern`, `minLength`,
//! `maxLength`, `minimum`, `maximum`, `minItems`, `maxItems`, `uniqueItems`, `items`,
//! `properties`, `required`, `additionalProperties`, `oneOf` (with a discriminator's mapping),
//! `anyOf`, `allOf`, and `format: date-time`.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use serde_json::Value;

/// The document, where the shared specs are.
pub fn document_path() -> Option<PathBuf> {
    super::shared::file("specs/x-openapi/openapi.json", "X requests and answers checked against X's OpenAPI document")
}

/// A request as the server saw it.
pub struct RequestParts<'a> {
    pub method: &'a str,
    pub path: &'a str,
    pub query: &'a [(String, String)],
    pub content_type: Option<&'a str>,
    pub body: &'a [u8],
}

/// The operation a request matched.
pub struct Matched {
    pub template: String,
    pub operation: Value,
    pub path_params: Vec<(String, String)>,
}

pub struct Spec {
    doc: Value,
    regexes: Mutex<HashMap<String, Option<regex::Regex>>>,
}

impl Spec {
    pub fn load(path: &Path) -> Spec {
        let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let doc: Value = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        assert!(doc["openapi"].as_str().is_some_and(|v| v.starts_with("3.0")), "not an OpenAPI 3.0 document");
        Spec { doc, regexes: Mutex::new(HashMap::new()) }
    }

    /// The document's `info.version` ("2.167").
    pub fn version(&self) -> &str {
        self.doc["info"]["version"].as_str().unwrap_or("?")
    }

    /// Follows `$ref`s to the schema, parameter or response they name.
    pub fn resolve<'a>(&'a self, mut v: &'a Value) -> &'a Value {
        for _ in 0..32 {
            let Some(r) = v.get("$ref").and_then(Value::as_str) else { return v };
            let Some(pointer) = r.strip_prefix('#') else { return v };
            v = self.doc.pointer(pointer).unwrap_or(&Value::Null);
        }
        v
    }

    /// The operation for `method` on `path`, with the path parameters' values.
    pub fn operation(&self, method: &str, path: &str) -> Option<Matched> {
        let segments: Vec<&str> = path.trim_end_matches('/').split('/').collect();
        let paths = self.doc["paths"].as_object()?;
        // Literal segments win over parameters (/2/users/me over /2/users/{id}).
        let mut best: Option<(usize, Matched)> = None;
        for (template, item) in paths {
            let parts: Vec<&str> = template.split('/').collect();
            if parts.len() != segments.len() {
                continue;
            }
            let mut params = Vec::new();
            let mut literal = 0;
            let ok = parts.iter().zip(&segments).all(|(t, s)| {
                if t.starts_with('{') && t.ends_with('}') {
                    params.push((t[1..t.len() - 1].to_string(), s.to_string()));
                    !s.is_empty()
                } else {
                    literal += 1;
                    t == s
                }
            });
            let Some(op) = item.get(method.to_ascii_lowercase()) else { continue };
            if ok && best.as_ref().is_none_or(|(l, _)| literal > *l) {
                let mut operation = op.clone();
                // Path-level parameters apply to every operation.
                if let Some(shared) = item.get("parameters").and_then(Value::as_array) {
                    let own = operation["parameters"].as_array().cloned().unwrap_or_default();
                    operation["parameters"] = Value::Array(shared.iter().cloned().chain(own).collect());
                }
                best = Some((literal, Matched { template: template.clone(), operation, path_params: params }));
            }
        }
        best.map(|(_, m)| m)
    }

    /// Everything wrong with a request, in words; the matched operation if there is one.
    pub fn check_request(&self, req: &RequestParts<'_>, aliases: &[(&str, &str)]) -> (Option<Matched>, Vec<String>) {
        let mut out = Vec::new();
        let Some(m) = self.operation(req.method, req.path) else {
            out.push(format!("{} {}: no such operation in the X API document", req.method, req.path));
            return (None, out);
        };
        let at = format!("{} {}", req.method, m.template);
        let params: Vec<Value> = m.operation["parameters"]
            .as_array()
            .cloned()
            .unwrap_or_default()
            .iter()
            .map(|p| self.resolve(p).clone())
            .collect();
        // Path parameters.
        for (name, value) in &m.path_params {
            match params.iter().find(|p| p["in"] == "path" && p["name"] == name.as_str()) {
                Some(p) => {
                    self.validate(&p["schema"], &Value::String(value.clone()), &format!("{at}: path {name}"), &mut out)
                }
                None => out.push(format!("{at}: path parameter {name} is not documented")),
            }
        }
        // Query parameters: known, not repeated, valid, and the required ones present.
        let mut seen: Vec<&str> = Vec::new();
        for (name, value) in req.query {
            let name = aliases.iter().find(|(a, _)| a == name).map_or(name.as_str(), |(_, to)| to);
            if seen.contains(&name) {
                out.push(format!("{at}: query parameter {name} is repeated"));
            }
            seen.push(name);
            let Some(p) = params.iter().find(|p| p["in"] == "query" && p["name"] == name) else {
                out.push(format!("{at}: unknown query parameter {name:?}"));
                continue;
            };
            let schema = self.resolve(&p["schema"]);
            let value = self.query_value(schema, value, p);
            self.validate(schema, &value, &format!("{at}: query {name}"), &mut out);
        }
        for p in params.iter().filter(|p| p["in"] == "query" && p["required"] == true) {
            let name = p["name"].as_str().unwrap_or_default();
            if !seen.contains(&name) {
                out.push(format!("{at}: required query parameter {name} is missing"));
            }
        }
        // Body.
        let body = self.resolve(&m.operation["requestBody"]);
        match (body.is_null(), req.body.is_empty()) {
            (true, false) => out.push(format!("{at}: sends a body, but the operation takes none")),
            (false, true) if body["required"] == true => out.push(format!("{at}: the required body is missing")),
            (false, false) => {
                let ct = req.content_type.unwrap_or_default().split(';').next().unwrap_or_default().trim();
                match body["content"].get(ct) {
                    None => out.push(format!("{at}: body of type {ct:?}, which the operation does not take")),
                    Some(media) => match serde_json::from_slice::<Value>(req.body) {
                        Ok(v) => self.validate(&media["schema"], &v, &format!("{at}: body"), &mut out),
                        Err(e) => out.push(format!("{at}: the body is not JSON: {e}")),
                    },
                }
            }
            _ => {}
        }
        (Some(m), out)
    }

    /// A query value as the schema types it: `form` arrays without explode are comma lists.
    fn query_value(&self, schema: &Value, raw: &str, param: &Value) -> Value {
        match schema["type"].as_str() {
            Some("array") if param["explode"] != true => {
                Value::Array(raw.split(',').map(|item| self.scalar(self.resolve(&schema["items"]), item)).collect())
            }
            _ => self.scalar(schema, raw),
        }
    }

    fn scalar(&self, schema: &Value, raw: &str) -> Value {
        match schema["type"].as_str() {
            Some("integer") => raw.parse::<i64>().map(Value::from).unwrap_or_else(|_| Value::String(raw.into())),
            Some("number") => raw.parse::<f64>().map(Value::from).unwrap_or_else(|_| Value::String(raw.into())),
            Some("boolean") => match raw {
                "true" => Value::Bool(true),
                "false" => Value::Bool(false),
                _ => Value::String(raw.into()),
            },
            _ => Value::String(raw.into()),
        }
    }

    /// The security alternatives of an operation: scheme name and the scopes it needs.
    pub fn security(&self, operation: &Value) -> Vec<(String, Vec<String>)> {
        let list = operation.get("security").or_else(|| self.doc.get("security"));
        let mut out = Vec::new();
        for alt in list.and_then(Value::as_array).into_iter().flatten() {
            for (scheme, scopes) in alt.as_object().into_iter().flatten() {
                let scopes = scopes.as_array().into_iter().flatten().filter_map(|s| s.as_str().map(str::to_string));
                out.push((scheme.clone(), scopes.collect()));
            }
        }
        out
    }

    /// The security scheme's HTTP scheme ("bearer", "OAuth") or "oauth2".
    pub fn scheme_kind(&self, name: &str) -> String {
        let s = &self.doc["components"]["securitySchemes"][name];
        match s["type"].as_str() {
            Some("http") => s["scheme"].as_str().unwrap_or_default().to_ascii_lowercase(),
            Some(other) => other.to_string(),
            None => String::new(),
        }
    }

    /// Everything wrong with a response the server is about to send.
    pub fn check_response(&self, matched: &Matched, status: u16, content_type: &str, body: &Value) -> Vec<String> {
        let mut out = Vec::new();
        let at = format!("answer to {}", matched.template);
        let responses = &matched.operation["responses"];
        let Some(response) = responses.get(status.to_string()).or_else(|| responses.get("default")) else {
            out.push(format!("{at}: status {status} is not documented"));
            return out;
        };
        let response = self.resolve(response);
        match response["content"].get(content_type) {
            Some(media) => self.validate(&media["schema"], body, &format!("{at} ({status})"), &mut out),
            None => out.push(format!("{at}: status {status} is not documented as {content_type}")),
        }
        out
    }

    /// Checks `value` against an OpenAPI 3.0 schema; problems go to `out`, each with `at`.
    pub fn validate(&self, schema: &Value, value: &Value, at: &str, out: &mut Vec<String>) {
        let schema = self.resolve(schema);
        if schema.is_null() || schema.as_object().is_some_and(|o| o.is_empty()) {
            return;
        }
        if let Some(all) = schema["allOf"].as_array() {
            for s in all {
                self.validate(s, value, at, out);
            }
        }
        if let Some(any) = schema["anyOf"].as_array() {
            if !any.iter().any(|s| self.valid(s, value)) {
                out.push(format!("{at}: matches none of anyOf"));
            }
        }
        if let Some(one) = schema["oneOf"].as_array() {
            self.one_of(schema, one, value, at, out);
        }
        if value.is_null() {
            if schema["nullable"] != true && schema.get("type").is_some() {
                out.push(format!("{at}: null, but not nullable"));
            }
            return;
        }
        if let Some(allowed) = schema["enum"].as_array() {
            if !allowed.contains(value) {
                out.push(format!("{at}: {value} is not one of {}", Value::Array(allowed.clone())));
            }
        }
        let ty = schema["type"].as_str().or_else(|| schema.get("properties").map(|_| "object"));
        let type_ok = match ty {
            Some("object") => value.is_object(),
            Some("array") => value.is_array(),
            Some("string") => value.is_string(),
            Some("integer") => value.is_i64() || value.is_u64(),
            Some("number") => value.is_number(),
            Some("boolean") => value.is_boolean(),
            _ => true,
        };
        if !type_ok {
            out.push(format!("{at}: {value} is not of type {}", ty.unwrap_or("?")));
            return;
        }
        match value {
            Value::String(s) => self.string(schema, s, at, out),
            Value::Number(n) => {
                let n = n.as_f64().unwrap_or_default();
                if schema["minimum"].as_f64().is_some_and(|min| n < min) {
                    out.push(format!("{at}: {n} is below the minimum {}", schema["minimum"]));
                }
                if schema["maximum"].as_f64().is_some_and(|max| n > max) {
                    out.push(format!("{at}: {n} is above the maximum {}", schema["maximum"]));
                }
            }
            Value::Array(items) => {
                if schema["minItems"].as_u64().is_some_and(|m| (items.len() as u64) < m) {
                    out.push(format!("{at}: {} items, fewer than {}", items.len(), schema["minItems"]));
                }
                if schema["maxItems"].as_u64().is_some_and(|m| (items.len() as u64) > m) {
                    out.push(format!("{at}: {} items, more than {}", items.len(), schema["maxItems"]));
                }
                if schema["uniqueItems"] == true {
                    for (i, a) in items.iter().enumerate() {
                        if items[..i].contains(a) {
                            out.push(format!("{at}: {a} is repeated"));
                        }
                    }
                }
                if let Some(item_schema) = schema.get("items") {
                    for (i, item) in items.iter().enumerate() {
                        self.validate(item_schema, item, &format!("{at}[{i}]"), out);
                    }
                }
            }
            Value::Object(map) => {
                for r in schema["required"].as_array().into_iter().flatten().filter_map(Value::as_str) {
                    if !map.contains_key(r) {
                        out.push(format!("{at}: required field {r} is missing"));
                    }
                }
                let props = schema["properties"].as_object();
                for (k, v) in map {
                    match props.and_then(|p| p.get(k)) {
                        Some(s) => self.validate(s, v, &format!("{at}.{k}"), out),
                        None => match &schema["additionalProperties"] {
                            Value::Bool(false) => out.push(format!("{at}: field {k} is not allowed")),
                            s @ Value::Object(_) => self.validate(s, v, &format!("{at}.{k}"), out),
                            _ => {}
                        },
                    }
                }
            }
            _ => {}
        }
    }

    fn valid(&self, schema: &Value, value: &Value) -> bool {
        let mut v = Vec::new();
        self.validate(schema, value, "", &mut v);
        v.is_empty()
    }

    fn one_of(&self, schema: &Value, one: &[Value], value: &Value, at: &str, out: &mut Vec<String>) {
        let disc = &schema["discriminator"];
        if let (Some(prop), Some(mapping)) = (disc["propertyName"].as_str(), disc["mapping"].as_object()) {
            let tag = value.get(prop).and_then(Value::as_str).unwrap_or_default();
            match mapping.get(tag) {
                Some(target) => self.validate(&serde_json::json!({ "$ref": target }), value, at, out),
                None => out.push(format!("{at}: {prop} {tag:?} is not one of the document's {}", mapping.len())),
            }
            return;
        }
        let matching = one.iter().filter(|s| self.valid(s, value)).count();
        if matching != 1 {
            out.push(format!("{at}: matches {matching} of oneOf, not exactly one"));
        }
    }

    fn string(&self, schema: &Value, s: &str, at: &str, out: &mut Vec<String>) {
        let len = s.chars().count() as u64;
        if schema["minLength"].as_u64().is_some_and(|m| len < m) {
            out.push(format!("{at}: {s:?} is shorter than {}", schema["minLength"]));
        }
        if schema["maxLength"].as_u64().is_some_and(|m| len > m) {
            out.push(format!("{at}: {} characters, more than {}", len, schema["maxLength"]));
        }
        if let Some(pattern) = schema["pattern"].as_str() {
            let mut cache = self.regexes.lock().unwrap();
            let re = cache.entry(pattern.to_string()).or_insert_with(|| regex::Regex::new(pattern).ok());
            if let Some(re) = re {
                if !re.is_match(s) {
                    out.push(format!("{at}: {s:?} does not match {pattern}"));
                }
            }
        }
        if schema["format"] == "date-time" && chrono::DateTime::parse_from_rfc3339(s).is_err() {
            out.push(format!("{at}: {s:?} is not an RFC 3339 date-time"));
        }
    }
}
