DROP TABLE notice_attempts;
DROP FUNCTION notice_attempts_are_append_only();
DROP TABLE notices;
DROP FUNCTION notices_are_never_deleted();
