-- The blocks a call passed in its inbound number's scenario ("hours → menu → sales"),
-- with why any block failed.
ALTER TABLE call_records ADD COLUMN scenario_path TEXT;
