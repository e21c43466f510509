/**
 * How fastify checks each part of a request against its route's schema. Text from the URL
 * (querystring, path parameters, headers) is coerced to the declared types: `?limit=5` is the
 * number 5, a repeated key a list. A JSON body already carries its types and is checked as sent:
 * coercing it turned `taskData: null` (a preload) into `""` (a task), and `temperature: null` into 0.
 */
import { AjvCompiler } from '@fastify/ajv-compiler';
import type { FastifySchemaCompiler, FastifyServerOptions } from 'fastify';

type ValidatorFactory = NonNullable<NonNullable<NonNullable<FastifyServerOptions['schemaController']>['compilersFactory']>['buildValidator']>;
/** What a factory really returns: a compiler of route schemas (the package's own typing says otherwise). */
type RouteCompiler = FastifySchemaCompiler<unknown>;
type FactoryOptions = { customOptions?: Record<string, unknown> } & Record<string, unknown>;

/** fastify's own ajv compiler, with coercion switched off for bodies. */
export function requestValidators(): ValidatorFactory {
  const fromPool = AjvCompiler() as unknown as (externalSchemas: unknown, options: FactoryOptions) => RouteCompiler;
  const factory = (externalSchemas: unknown, options: FactoryOptions = {}): RouteCompiler => {
    const coercing = fromPool(externalSchemas, options);
    const exact = fromPool(externalSchemas, { ...options, customOptions: { ...options.customOptions, coerceTypes: false } });
    return (route) => (route.httpPart === 'body' ? exact(route) : coercing(route));
  };
  return factory as unknown as ValidatorFactory;
}
