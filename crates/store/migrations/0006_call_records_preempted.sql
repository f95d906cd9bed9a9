-- A queue call whose caller was put on hold while their agent took a VIP call.
ALTER TABLE call_records ADD COLUMN preempted INTEGER NOT NULL DEFAULT 0;
