INSERT INTO bench_insert (client, payload) VALUES (:client_id, 'x');
