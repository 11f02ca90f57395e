DROP TABLE log_head;
DROP TRIGGER events_are_append_only ON events;
DROP FUNCTION events_are_append_only();
DROP TABLE events;
DROP TABLE associations;
