-- Call scenarios. The office edits a draft; publishing stores it as the scenario's next
-- version, which calls follow from then on (a call in progress keeps the version it
-- started with). Bodies are the scenario as JSON.
CREATE TABLE scenario_drafts (
    name     TEXT PRIMARY KEY,
    body     TEXT NOT NULL,
    saved_at INTEGER NOT NULL     -- unix milliseconds
) STRICT;

CREATE TABLE scenario_versions (
    name         TEXT NOT NULL,
    version      INTEGER NOT NULL CHECK (version >= 1),
    body         TEXT NOT NULL,
    published_at INTEGER NOT NULL, -- unix milliseconds
    PRIMARY KEY (name, version)
) STRICT;
