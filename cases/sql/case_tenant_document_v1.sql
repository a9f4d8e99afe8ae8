-- case_tenant_document(organization, document): a case's search words prefixed with its
-- organization ("42/trunk"), without positions, plus the organization's own marker word
-- ("42/") that every one of its cases has.
--
-- The index case_tenant_search_gin is built on this function (declared in Case.Meta), so
-- a customer's keyword search reads only their organization's index entries instead of
-- every tenant's entries of a common word, and intersecting with the organization after.
-- cases/search.py names the same expression in its query (TenantDocument).
--
-- Created by migration cases 0013. Released files are never edited: a change is a new
-- file (_v2) and a new migration that runs it; the index must then be rebuilt, since it
-- stores this function's results.

CREATE OR REPLACE FUNCTION case_tenant_document(organization integer, document tsvector)
RETURNS tsvector LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
  SELECT array_to_tsvector(
    array(
      SELECT organization::text || '/' || lexeme
      FROM unnest(tsvector_to_array(document)) AS lexeme
    ) || (organization::text || '/')
  )
$$
