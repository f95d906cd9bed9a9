-- The call's recording: a file name in the recordings' folder, when it was recorded.
ALTER TABLE call_records ADD COLUMN recording TEXT;
