DROP TABLE log_head;
DROP TRIGGER events_are_append_only_delete;
DROP TRIGGER events_are_append_only_update;
DROP TABLE events;
DROP TABLE associations;
