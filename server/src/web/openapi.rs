//! `GET /api/v1/openapi.json`: the admin API described as OpenAPI 3.1, from the same table of
//! endpoints the router is built from (`admin_api::endpoints`).

use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::{json, Map, Value};

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
            "oauthClients:array",
            "federationPolicies:array",
            "limits:object",
            "contacts:array",
            "notifications:array",
        ],
    ),
    ("NewContact", &["email", "name"]),
    ("DownloadLimits", &["downloadsAllowed:boolean", "maxRowsPerDownload:integer", "maxExportJobsPerDay:integer"]),
    ("NewClient", &["name"]),
    ("IssuedClient", &["client:object", "clientSecret", "profile"]),
    ("FederationPolicy", &["name", "issuer", "audiences:array", "subjectClaim", "subjectValues:array", "scope"]),
    ("LinkRequest", &["ttlHours:integer"]),
    ("RotateRequest", &["overlapHours:integer"]),
    ("IssuedLink", &["url", "expiresAt", "oldTokensExpireAt"]),
    ("NewShare", &["name", "comment", "team", "displayName", "properties:object"]),
    ("SharePatch", &["comment", "displayName", "properties:object"]),
    ("ShareDetail", &["name", "comment", "displayName", "properties:object", "team", "createdAt", "tables:array", "grants:array"]),
    ("NewTable", &["schema", "name", "location", "comment", "history:boolean", "scope"]),
    ("TablePatch", &["alias", "comment", "history:boolean", "scope", "location", "keyColumns:array"]),
    (
        "TableDetail",
        &[
            "schema",
            "name",
            "location",
            "comment",
            "history:boolean",
            "scope",
            "keyColumns:array",
            "columns:array",
            "externalLocation",
            "problem",
            "storage",
        ],
    ),
    ("NewLocation", &["name", "url", "comment"]),
    ("Location", &["name", "url", "comment", "teams:array", "createdBy", "createdAt", "tables:integer"]),
    ("LocationList", &["items:array"]),
    (
        "Rows",
        &[
            "columns:array",
            "rows:array",
            "count:integer",
            "count_exact:boolean",
            "next",
            "next_url",
            "filters_description",
            "version:integer",
            "changes:object",
            "facets:array",
        ],
    ),
    ("NewApiToken", &["name", "team"]),
    ("IssuedApiToken", &["id", "name", "team", "token", "status"]),
    ("Deleted", &["deleted:boolean"]),
    ("TeamList", &["items:array"]),
    ("RecipientList", &["items:array"]),
    ("ShareList", &["items:array"]),
    ("AuditList", &["items:array"]),
    ("Usage", &["days:array", "topTables:array", "countsUnattributed:boolean"]),
    ("ApiTokenList", &["items:array"]),
    ("Error", &["errorCode", "message", "field"]),
];

pub async fn document() -> Response {
    Json(build()).into_response()
}

fn build() -> Value {
    let mut paths = Map::new();
    for super::admin_api::Endpoint { method, path, summary, request, status, response, .. } in super::admin_api::endpoints() {
        let entry = paths.entry(format!("/api/v1/admin{path}")).or_insert_with(|| json!({}));
        let parameters: Vec<Value> = path
            .split('/')
            .filter_map(|p| p.strip_prefix('{').and_then(|p| p.strip_suffix('}')))
            .map(|name| json!({ "name": name, "in": "path", "required": true, "schema": { "type": "string" } }))
            .collect();
        let content = if response == "Csv" {
            json!({ "text/csv": { "schema": { "type": "string" } } })
        } else {
            json!({ "application/json": { "schema": { "$ref": format!("#/components/schemas/{response}") } } })
        };
        let error =
            json!({ "description": "error", "content": { "application/json": { "schema": { "$ref": "#/components/schemas/Error" } } } });
        let mut operation = json!({
            "summary": summary,
            "parameters": parameters,
            "responses": {
                status.to_string(): { "description": "success", "content": content },
                "400": error.clone(), "401": error.clone(), "403": error.clone(), "404": error.clone(), "409": error,
            },
        });
        if let Some(request) = request {
            operation["requestBody"] = json!({ "required": true, "content": { "application/json": { "schema": { "$ref": format!("#/components/schemas/{request}") } } } });
        }
        entry[method] = operation;
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
        assert_eq!(doc["paths"].as_object().unwrap().len(), 28);
        for e in super::super::admin_api::endpoints() {
            for schema in e.request.iter().chain([&e.response]).filter(|s| **s != "Csv") {
                assert!(doc["components"]["schemas"][*schema].is_object(), "{schema}");
            }
        }
    }
}
