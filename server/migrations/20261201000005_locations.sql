-- External locations: URL prefixes (local directories, object-store prefixes) that platform admins
-- name and grant to teams. A team admin adds a table only under a location granted to the team.
-- `url` is stored normalised (local directories canonical, no trailing separator) so that prefix
-- checks compare like with like. Locations never overlap (checked in code).
CREATE TABLE locations (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    name_key TEXT NOT NULL UNIQUE,
    url TEXT NOT NULL,
    comment TEXT,
    created_by TEXT NOT NULL,
    created_at BIGINT NOT NULL
);

CREATE TABLE location_grants (
    location_id TEXT NOT NULL REFERENCES locations(id) ON DELETE CASCADE,
    team_id TEXT NOT NULL REFERENCES teams(id) ON DELETE CASCADE,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (location_id, team_id)
);
CREATE INDEX location_grants_by_team ON location_grants (team_id);
