-- pgmotion DDL capture (connector option pgmotion.ddl.capture=true).
--
-- An event trigger writes every DDL statement of this database into the WAL
-- as a transactional logical decoding message of prefix 'pgmotion.ddl', in
-- the statement's own transaction, which pgmotion emits as an event on
-- <topic.prefix>.ddl. pgmotion runs this script when a connector with the
-- option starts as a superuser; a superuser may also run it beforehand
-- (psql -d <database> -f ddlcapture.sql), so that a connector whose user is
-- not a superuser can use the option. Running it again is harmless.
--
-- The function never makes a DDL statement fail: with wal_level other than
-- logical it writes nothing, and any error becomes a WARNING.
--
-- To remove it:
--   DROP EVENT TRIGGER IF EXISTS pgmotion_ddl_capture;
--   DROP EVENT TRIGGER IF EXISTS pgmotion_ddl_capture_drop;
--   DROP FUNCTION IF EXISTS public.pgmotion_ddl_capture();

CREATE OR REPLACE FUNCTION public.pgmotion_ddl_capture() RETURNS event_trigger
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $pgmotion$
DECLARE
	objects json;
BEGIN
	IF current_setting('wal_level') <> 'logical' THEN
		RETURN;
	END IF;
	IF TG_EVENT = 'sql_drop' THEN
		IF TG_TAG NOT LIKE 'DROP %' THEN
			RETURN; -- ALTER ... DROP ...: reported at ddl_command_end
		END IF;
		SELECT json_agg(json_build_object('commandTag', TG_TAG, 'objectType', d.object_type,
				'schemaName', d.schema_name, 'objectIdentity', d.object_identity))
			INTO objects FROM pg_event_trigger_dropped_objects() d
			WHERE (d.original OR d.normal) AND NOT d.is_temporary;
	ELSE
		SELECT json_agg(json_build_object('commandTag', c.command_tag, 'objectType', c.object_type,
				'schemaName', c.schema_name, 'objectIdentity', c.object_identity))
			INTO objects FROM pg_event_trigger_ddl_commands() c
			WHERE c.schema_name IS NULL OR c.schema_name NOT LIKE 'pg\_temp%';
	END IF;
	IF objects IS NULL THEN
		RETURN; -- nothing changed, or only temporary objects
	END IF;
	PERFORM pg_logical_emit_message(true, 'pgmotion.ddl', json_build_object('event', TG_EVENT, 'tag', TG_TAG,
		'user', current_user, 'query', current_query(), 'objects', objects)::text);
EXCEPTION WHEN OTHERS THEN
	RAISE WARNING 'pgmotion DDL capture (%): % (SQLSTATE %)', TG_TAG, SQLERRM, SQLSTATE;
END
$pgmotion$;

DO $pgmotion$
BEGIN
	IF NOT EXISTS (SELECT FROM pg_event_trigger WHERE evtname = 'pgmotion_ddl_capture') THEN
		CREATE EVENT TRIGGER pgmotion_ddl_capture ON ddl_command_end
			EXECUTE FUNCTION public.pgmotion_ddl_capture();
	END IF;
	IF NOT EXISTS (SELECT FROM pg_event_trigger WHERE evtname = 'pgmotion_ddl_capture_drop') THEN
		CREATE EVENT TRIGGER pgmotion_ddl_capture_drop ON sql_drop
			EXECUTE FUNCTION public.pgmotion_ddl_capture();
	END IF;
END
$pgmotion$;
