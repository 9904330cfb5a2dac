CREATE DATABASE titp_registry;
CREATE DATABASE titp_accreditation;
CREATE DATABASE titp_inspection;
CREATE DATABASE titp_visa;
