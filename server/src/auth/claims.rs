//! What a verified token says: its claims read as strings, the same for single sign-on's ID
//! tokens and federated access tokens.

use serde_json::Value;

/// The values of a token's claim that is a string or a list of strings (a boolean or a number
/// as its text); none when it is missing.
pub fn claim_values(claims: &Value, name: &str) -> Vec<String> {
    match claims.get(name) {
        Some(Value::String(v)) => vec![v.clone()],
        Some(Value::Array(items)) => items.iter().filter_map(|v| v.as_str().map(String::from)).collect(),
        Some(Value::Bool(b)) => vec![b.to_string()],
        Some(Value::Number(n)) => vec![n.to_string()],
        _ => Vec::new(),
    }
}
