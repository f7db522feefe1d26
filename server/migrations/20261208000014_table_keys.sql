-- The columns that identify a row of a shared table (a JSON array of names), as its admin
-- declares them: "net changes" give each changed key once, in its latest state.
ALTER TABLE shared_tables ADD COLUMN key_columns TEXT;
