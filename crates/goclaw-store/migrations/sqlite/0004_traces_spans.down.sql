DROP TABLE spans;
DROP TABLE traces;
