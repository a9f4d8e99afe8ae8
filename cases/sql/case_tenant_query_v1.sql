-- case_tenant_query(organization, query): a full-text query on the prefixed words of
-- case_tenant_document for one organization. It finds every case the original query finds,
-- and possibly more: phrases become "all of these words" (the prefixed document keeps no
-- positions), and a negated part becomes the organization's marker word (a case may lack
-- any word). cases/search.py keeps the original condition on the stored document as well,
-- so the results are exactly the original query's; this query only picks which index
-- entries of case_tenant_search_gin to read (0.05-0.8 ms instead of 1-7 ms per search on
-- a million cases, bench/RESULTS.md).
--
-- The query's text form (tsqueryout) is: quoted lexemes ('' for a quote inside, a
-- backslash escaping the next character) with optional :* and weights, "!", "&", "|",
-- "<->" or "<N>", parentheses and spaces. It is rewritten token by token.
--
-- Created by migration cases 0013. Released files are never edited: a change is a new
-- file (_v2) and a new migration that runs it (CREATE OR REPLACE).

CREATE OR REPLACE FUNCTION case_tenant_query(organization integer, query tsquery)
RETURNS tsquery LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE AS $$
DECLARE
  source text := query::text;
  n integer := length(source);
  i integer := 1;
  c text;
  result text := '';
  prefix text := organization::text || '/';
  depth integer;
  lexeme text;
  flags text;
BEGIN
  WHILE i <= n LOOP
    c := substr(source, i, 1);
    IF c = '''' THEN
      -- A lexeme: copied with the prefix, its escapes kept, its prefix-match flag kept and
      -- its weights dropped (the indexed words have none).
      lexeme := '';
      i := i + 1;
      LOOP
        c := substr(source, i, 1);
        IF c = '' THEN
          RAISE EXCEPTION 'unterminated lexeme in %', source;
        ELSIF c = '''' AND substr(source, i + 1, 1) = '''' THEN
          lexeme := lexeme || '''''';
          i := i + 2;
        ELSIF c = '''' THEN
          i := i + 1;
          EXIT;
        ELSIF c = '\' THEN
          lexeme := lexeme || substr(source, i, 2);
          i := i + 2;
        ELSE
          lexeme := lexeme || c;
          i := i + 1;
        END IF;
      END LOOP;
      flags := '';
      IF substr(source, i, 1) = ':' THEN
        i := i + 1;
        WHILE i <= n AND upper(substr(source, i, 1)) IN ('*', 'A', 'B', 'C', 'D') LOOP
          IF substr(source, i, 1) = '*' THEN
            flags := ':*';
          END IF;
          i := i + 1;
        END LOOP;
      END IF;
      result := result || '''' || prefix || lexeme || '''' || flags;
    ELSIF c = '!' THEN
      -- A negated part (a lexeme, a group or another negation) can hold for any case of
      -- the organization: it becomes the organization's marker.
      i := i + 1;
      WHILE substr(source, i, 1) IN ('!', ' ') LOOP
        i := i + 1;
      END LOOP;
      depth := 0;
      LOOP
        c := substr(source, i, 1);
        IF c = '' THEN
          EXIT;
        ELSIF c = '''' THEN
          i := i + 1;
          LOOP
            c := substr(source, i, 1);
            IF c = '' THEN
              RAISE EXCEPTION 'unterminated lexeme in %', source;
            ELSIF c = '''' AND substr(source, i + 1, 1) = '''' THEN
              i := i + 2;
            ELSIF c = '''' THEN
              i := i + 1;
              EXIT;
            ELSIF c = '\' THEN
              i := i + 2;
            ELSE
              i := i + 1;
            END IF;
          END LOOP;
          IF substr(source, i, 1) = ':' THEN
            i := i + 1;
            WHILE i <= n AND upper(substr(source, i, 1)) IN ('*', 'A', 'B', 'C', 'D') LOOP
              i := i + 1;
            END LOOP;
          END IF;
        ELSE
          IF c = '(' THEN
            depth := depth + 1;
          ELSIF c = ')' THEN
            depth := depth - 1;
          END IF;
          i := i + 1;
        END IF;
        EXIT WHEN depth = 0;
      END LOOP;
      result := result || '''' || prefix || '''';
    ELSIF c = '<' THEN
      -- A phrase operator: the same words anywhere in the case.
      WHILE i <= n AND substr(source, i, 1) <> '>' LOOP
        i := i + 1;
      END LOOP;
      i := i + 1;
      result := result || '&';
    ELSE
      result := result || c;
      i := i + 1;
    END IF;
  END LOOP;
  RETURN result::tsquery;
END
$$
