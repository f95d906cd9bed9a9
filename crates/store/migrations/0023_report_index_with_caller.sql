-- First-call resolution reads each caller's next call: the reports' index holds the
-- caller too, so that it is answered without visiting the table.
DROP INDEX call_records_report;
CREATE INDEX call_records_report ON call_records (
    started_at, answered_at, ended_at, disposition, queue, answered_by, trunk, direction,
    caller
);
