-- Calls from and to the phone network: which way a call went and through which trunk.
-- Records written before trunks existed were all between the office's phones.
ALTER TABLE call_records ADD COLUMN direction TEXT NOT NULL DEFAULT 'internal'
    CHECK (direction IN ('internal', 'inbound', 'outbound'));
ALTER TABLE call_records ADD COLUMN trunk TEXT;
ALTER TABLE open_calls ADD COLUMN trunk TEXT;
