DROP TABLE sessions;
DROP TABLE sign_in_codes;
DROP TABLE role_grants;
