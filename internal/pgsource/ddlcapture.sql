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
-- Passwords are redacted before the statement leaves the database: the
-- literal after the word password (or any word containing it, such as
-- sslpassword, quoted or not), with or without "=", becomes '***', and
-- a bare value after password= (a connection string inside a literal)
-- becomes ***. That covers ALTER ROLE / CREATE ROLE / CREATE USER ...
-- [ENCRYPTED] PASSWORD '...', CREATE / ALTER USER MAPPING and CREATE /
-- ALTER SERVER ... OPTIONS (password '...', ADD / SET password '...'), in
-- '...', E'...' and $tag$...$tag$ literals, and in the whole text of a
-- multi-statement query (event triggers do not fire for roles, but
-- current_query() is the whole query string, so an ALTER ROLE sent with
-- a CREATE TABLE would reach the message). What remains visible: role and
-- user names, every other option (user, host, dbname, passfile paths),
-- and a secret given any other way (a literal not introduced by a word
-- containing "password", such as a token under another option name).
--
-- To remove it:
--   DROP EVENT TRIGGER IF EXISTS pgmotion_ddl_capture;
--   DROP EVENT TRIGGER IF EXISTS pgmotion_ddl_capture_drop;
--   DROP FUNCTION IF EXISTS public.pgmotion_ddl_capture();

CREATE OR REPLACE FUNCTION public.pgmotion_ddl_capture() RETURNS event_trigger
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $pgmotion$
DECLARE
	objects json;
	q text;     -- the query as sent
	lq text;    -- q in lower case, to find the word password
	redacted text := '';
	pos int := 1; -- q before pos is in redacted
	n int;
	i int;
	j int;
	c text;
	tag text;
	bs CONSTANT text := chr(92); -- a backslash, whatever standard_conforming_strings says
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
	q := current_query();
	lq := lower(q);
	n := length(q);
	LOOP
		i := strpos(substr(lq, pos), 'password');
		EXIT WHEN i = 0;
		j := pos + i - 1 + length('password');
		-- The rest of the word (sslpassword, "password"), then spaces.
		WHILE j <= n AND substr(lq, j, 1) ~ '[a-z0-9_"]' LOOP j := j + 1; END LOOP;
		WHILE j <= n AND substr(q, j, 1) ~ '[[:space:]]' LOOP j := j + 1; END LOOP;
		IF j <= n AND substr(q, j, 1) = '=' THEN
			j := j + 1;
			WHILE j <= n AND substr(q, j, 1) ~ '[[:space:]]' LOOP j := j + 1; END LOOP;
			IF j <= n AND substr(q, j, 1) !~ '[''$]' AND lower(substr(q, j, 2)) <> 'e''' THEN
				-- password=value in a connection string: up to a space or a quote.
				i := j;
				WHILE j <= n AND substr(q, j, 1) !~ '[''[:space:],)]' LOOP j := j + 1; END LOOP;
				redacted := redacted || substr(q, pos, i - pos) || '***';
				pos := j;
				CONTINUE;
			END IF;
		END IF;
		c := substr(q, j, 1);
		IF c = '''' OR lower(substr(q, j, 2)) = 'e''' THEN
			i := j;
			j := j + CASE WHEN c = '''' THEN 1 ELSE 2 END;
			LOOP
				EXIT WHEN j > n;
				c := substr(q, j, 1);
				IF c = bs AND substr(q, i, 1) <> '''' THEN
					j := j + 2; -- an escape in E'...'
				ELSIF c = '''' AND substr(q, j + 1, 1) = '''' THEN
					j := j + 2; -- a doubled quote
				ELSIF c = '''' THEN
					EXIT;
				ELSE
					j := j + 1;
				END IF;
			END LOOP;
			redacted := redacted || substr(q, pos, i - pos) || '''***''';
			pos := j + 1;
		ELSIF c = '$' AND substring(substr(q, j) from '^[$][A-Za-z_0-9]*[$]') IS NOT NULL THEN
			tag := substring(substr(q, j) from '^[$][A-Za-z_0-9]*[$]');
			i := strpos(substr(q, j + length(tag)), tag);
			redacted := redacted || substr(q, pos, j - pos) || '''***''';
			pos := CASE WHEN i = 0 THEN n + 1 ELSE j + length(tag) + i - 1 + length(tag) END;
		ELSE
			redacted := redacted || substr(q, pos, j - pos); -- not a literal: keep it
			pos := j;
		END IF;
	END LOOP;
	redacted := redacted || substr(q, pos);
	PERFORM pg_logical_emit_message(true, 'pgmotion.ddl', json_build_object('event', TG_EVENT, 'tag', TG_TAG,
		'user', current_user, 'query', redacted, 'objects', objects)::text);
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
