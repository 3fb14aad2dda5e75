-- The four service databases (compose only; `make migrate` creates them itself).
CREATE DATABASE jazz_identity;
CREATE DATABASE jazz_billing;
CREATE DATABASE jazz_content;
CREATE DATABASE jazz_progress;
