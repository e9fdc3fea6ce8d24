/**
 * Imported before ./schema by what writes the JSON schema (./json-schema.ts): the schema is then built
 * with the metadata (descriptions, examples) that only the JSON schema reads (./zod.ts, keepSchemaMetadata).
 */
import { keepSchemaMetadata } from "./zod";

keepSchemaMetadata();
