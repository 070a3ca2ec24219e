-- shipyard:ignore create-index-non-concurrent: orders has 12 rows
CREATE UNIQUE INDEX orders_id_total ON public.orders USING btree (id, total);
CREATE INDEX ON ONLY orders (total, id);
