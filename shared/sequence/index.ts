/** Per-conversation sequence numbers (hi/lo over Redis + MySQL) and conversation ids. */
export {
  privateConversationId,
  groupConversationId,
  parseConversationId,
  USER_ID_PATTERN,
  GROUP_ID_PATTERN,
  type ParsedConversationId,
} from './conversation-id';
export { SequenceGenerator, type SequenceGeneratorOptions, type SequenceMetrics } from './generator';
export { ReservationStore, type RecoverResult } from './reservations';
