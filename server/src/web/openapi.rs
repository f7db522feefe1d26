//! `GET /api/v1/openapi.json`: the admin API described as OpenAPI 3.1, from one table of routes.

use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::{json, Map, Value};

/// (method, path, summary, request body schema, success status, response schema).
type Route = (&'static str, &'static str, &'static str, Option<&'static str>, u16, &'static str);
const ROUTES: &[Route] = &[
    ("get", "/teams", "List teams (platform admins)", None, 200, "TeamList"),
    ("post", "/teams", "Create a team (platform admins)", Some("NewTeam"), 201, "Team"),
    ("get", "/recipients", "List recipients with status and usage", None, 200, "RecipientList"),
    ("post", "/recipients", "Create a recipient", Some("NewRecipient"), 201, "RecipientDetail"),
    ("get", "/recipients/{name}", "A recipient with tokens, links and grants", None, 200, "RecipientDetail"),
    ("patch", "/recipients/{name}", "Change comment, properties, IP allow-list or OIDC binding", Some("RecipientPatch"), 200, "RecipientDetail"),
    ("delete", "/recipients/{name}", "Delete a recipient", None, 200, "Deleted"),
    ("post", "/recipients/{name}/activation-links", "Create a one-time activation link", Some("LinkRequest"), 201, "IssuedLink"),
    ("post", "/recipients/{name}/rotate", "End active tokens after an overlap and issue a new activation link", Some("RotateRequest"), 201, "IssuedLink"),
    ("post", "/recipients/{name}/tokens/{id}/revoke", "Revoke one token", None, 200, "RecipientDetail"),
    ("get", "/shares", "List shares", None, 200, "ShareList"),
    ("post", "/shares", "Create a share", Some("NewShare"), 201, "ShareDetail"),
    ("get", "/shares/{name}", "A share with its tables (and their schemas) and grants", None, 200, "ShareDetail"),
    ("patch", "/shares/{name}", "Change a share's comment", Some("SharePatch"), 200, "ShareDetail"),
    ("delete", "/shares/{name}", "Delete a share", None, 200, "Deleted"),
    ("post", "/shares/{name}/tables", "Add a Delta table by location", Some("NewTable"), 201, "TableDetail"),
    ("patch", "/shares/{name}/tables/{table}", "Alias, comment, history or scope of `schema.table`", Some("TablePatch"), 200, "TableDetail"),
    ("delete", "/shares/{name}/tables/{table}", "Remove `schema.table` from the share", None, 200, "Deleted"),
    ("get", "/shares/{name}/tables/{table}/preview", "Rows as recipient `as` sees them (table-page grammar in the query)", None, 200, "Rows"),
    ("put", "/shares/{name}/grants/{recipient}", "Grant the share", None, 200, "ShareDetail"),
    ("delete", "/shares/{name}/grants/{recipient}", "Revoke the grant", None, 200, "ShareDetail"),
    ("get", "/locations", "External locations (platform admins: all; team admins: their team's)", None, 200, "LocationList"),
    ("post", "/locations", "Create an external location (platform admins)", Some("NewLocation"), 201, "Location"),
    ("get", "/locations/{name}", "An external location with its teams", None, 200, "Location"),
    ("delete", "/locations/{name}", "Delete an external location (platform admins; its tables stay shared)", None, 200, "Deleted"),
    ("put", "/locations/{name}/grants/{team}", "Let a team add tables under the location (platform admins)", None, 200, "Location"),
    ("delete", "/locations/{name}/grants/{team}", "Take the location back from a team (platform admins)", None, 200, "Location"),
    ("get", "/audit", "Audit events, newest first (recipient, share, action, from, to, limit)", None, 200, "AuditList"),
    ("get", "/audit.csv", "Audit events as CSV", None, 200, "Csv"),
    ("get", "/api-tokens", "List admin API tokens", None, 200, "ApiTokenList"),
    ("post", "/api-tokens", "Create an admin API token (shown once)", Some("NewApiToken"), 201, "IssuedApiToken"),
    ("delete", "/api-tokens/{id}", "Revoke an admin API token", None, 200, "Deleted"),
];

/// Field names of each schema (all strings unless the name says otherwise), enough for clients
/// and for schemathesis-style checks of the shapes.
const SCHEMAS: &[(&str, &[&str])] = &[
    ("Team", &["name", "createdAt"]),
    ("NewTeam", &["name"]),
    ("NewRecipient", &["name", "comment", "team", "properties:object", "ipAllowList:array", "oidc:object"]),
    ("RecipientPatch", &["comment", "properties:object", "ipAllowList:array", "oidc:object"]),
    (
        "RecipientDetail",
        &[
            "name",
            "comment",
            "team",
            "properties:object",
            "ipAllowList:array",
            "oidc:object",
            "status",
            "lastAccess",
            "rowsRead:integer",
            "bytesRead:integer",
            "createdAt",
            "tokens:array",
            "activationLinks:array",
            "grants:array",
        ],
    ),
    ("LinkRequest", &["ttlHours:integer"]),
    ("RotateRequest", &["overlapHours:integer"]),
    ("IssuedLink", &["url", "expiresAt", "oldTokensExpireAt"]),
    ("NewShare", &["name", "comment", "team"]),
    ("SharePatch", &["comment"]),
    ("ShareDetail", &["name", "comment", "team", "createdAt", "tables:array", "grants:array"]),
    ("NewTable", &["schema", "name", "location", "comment", "history:boolean", "scope"]),
    ("TablePatch", &["alias", "comment", "history:boolean", "scope", "location"]),
    ("TableDetail", &["schema", "name", "location", "comment", "history:boolean", "scope", "columns:array", "externalLocation"]),
    ("NewLocation", &["name", "url", "comment"]),
    ("Location", &["name", "url", "comment", "teams:array", "createdBy", "createdAt", "tables:integer"]),
    ("LocationList", &["items:array"]),
    ("Rows", &["columns:array", "rows:array", "count:integer", "next", "filters_description"]),
    ("NewApiToken", &["name", "team"]),
    ("IssuedApiToken", &["id", "name", "team", "token", "status"]),
    ("Deleted", &["deleted:boolean"]),
    ("TeamList", &["items:array"]),
    ("RecipientList", &["items:array"]),
    ("ShareList", &["items:array"]),
    ("AuditList", &["items:array"]),
    ("ApiTokenList", &["items:array"]),
    ("Error", &["errorCode", "message", "field"]),
];

pub async fn document() -> Response {
    Json(build()).into_response()
}

fn build() -> Value {
    let mut paths = Map::new();
    for (method, path, summary, request, status, response) in ROUTES {
        let entry = paths.entry(format!("/api/v1/admin{path}")).or_insert_with(|| json!({}));
        let parameters: Vec<Value> = path
            .split('/')
            .filter_map(|p| p.strip_prefix('{').and_then(|p| p.strip_suffix('}')))
            .map(|name| json!({ "name": name, "in": "path", "required": true, "schema": { "type": "string" } }))
            .collect();
        let content = if *response == "Csv" {
            json!({ "text/csv": { "schema": { "type": "string" } } })
        } else {
            json!({ "application/json": { "schema": { "$ref": format!("#/components/schemas/{response}") } } })
        };
        let error = json!({ "description": "error", "content": { "application/json": { "schema": { "$ref": "#/components/schemas/Error" } } } });
        let mut operation = json!({
            "summary": summary,
            "parameters": parameters,
            "responses": {
                status.to_string(): { "description": "success", "content": content },
                "400": error.clone(), "401": error.clone(), "403": error.clone(), "404": error.clone(), "409": error,
            },
        });
        if let Some(request) = request {
            operation["requestBody"] =
                json!({ "required": true, "content": { "application/json": { "schema": { "$ref": format!("#/components/schemas/{request}") } } } });
        }
        entry[*method] = operation;
    }
    let schemas: Map<String, Value> = SCHEMAS
        .iter()
        .map(|(name, fields)| {
            let properties: Map<String, Value> = fields
                .iter()
                .map(|f| {
                    let (field, kind) = f.split_once(':').unwrap_or((f, "string"));
                    (field.to_string(), json!({ "type": kind }))
                })
                .collect();
            (name.to_string(), json!({ "type": "object", "properties": properties }))
        })
        .collect();
    json!({
        "openapi": "3.1.0",
        "info": { "title": "Partner Data Portal admin API", "version": env!("CARGO_PKG_VERSION") },
        "paths": paths,
        "components": {
            "schemas": schemas,
            "securitySchemes": { "adminToken": { "type": "http", "scheme": "bearer", "description": "An admin API token (dsa_…)" } },
        },
        "security": [{ "adminToken": [] }],
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn every_route_is_documented_with_its_schemas() {
        let doc = super::build();
        assert_eq!(doc["paths"].as_object().unwrap().len(), 19);
        for (_, _, _, request, _, response) in super::ROUTES {
            for schema in request.iter().chain([response]).filter(|s| **s != "Csv") {
                assert!(doc["components"]["schemas"][*schema].is_object(), "{schema}");
            }
        }
    }
}
