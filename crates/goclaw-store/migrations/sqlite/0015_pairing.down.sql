DROP TABLE IF EXISTS paired_devices;
DROP TABLE IF EXISTS pairing_requests;
