DROP TABLE notice_attempts;
DROP TABLE notices;
