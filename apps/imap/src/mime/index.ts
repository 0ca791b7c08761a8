export { parseMimeStructure } from './mime-parser';
export { bodyStructure } from './body-structure';
export { envelope } from './envelope';
export { findPart, resolveSection, type Section, type SectionRange } from './section';
export { filterHeaderFields } from './header-fields';
export {
  isMultipart,
  MIME_STRUCTURE_VERSION,
  type MimeEnvelopeFields,
  type MimeNode,
  type MimeParams,
} from './mime-node';
