DROP TABLE performance_results;
