/** Groups: membership storage, the router's membership cache and its event feed. */
export {
  GroupStore,
  MEMBER_ROLES,
  type GroupInfo,
  type Membership,
  type MembershipDelta,
  type MemberRole,
  type NewMember,
} from './store';
export { MembershipCache, type MembershipCacheOptions } from './membership-cache';
export { MembershipFeed, type MembershipFeedOptions } from './membership-feed';
export {
  MembershipPublisher,
  membershipChange,
  MEMBERSHIP_CHANGES,
  type MembershipChangeKind,
} from './membership-events';
