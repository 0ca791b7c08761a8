export { recordEvent, WEBHOOK_EVENTS, type EventEnvelope, type WebhookEvent } from './events';
export {
  deliverWebhook,
  SIGNATURE_HEADER,
  signWebhook,
  verifyWebhookSignature,
  WEBHOOK_SECRET_CONTEXT,
  type WebhookOutcome,
} from './deliver';
