DROP INDEX orders_id_total;
