// ListGroups (key 16), versions 0-5, flexible from 3.
// v1 throttle time; v4 StatesFilter in the request and GroupState in the response (KIP-518); v5 TypesFilter
// and GroupType ("classic" for every group here, KIP-848). Empty filters match everything. librdkafka < 2.1
// sends an extra empty tag section after v3+ bodies: the router tolerates trailing bytes.

import { api, array, int16, int32, string, struct, v } from '../schema';

const listedGroup = struct({
  groupId: string,
  protocolType: string,
  groupState: v(string, '4+'),
  groupType: v(string, '5+'),
});

export const ListGroups = api({
  key: 16,
  name: 'ListGroups',
  minVersion: 0,
  maxVersion: 5,
  flexibleFrom: 3,
  request: struct({
    statesFilter: v(array(string), '4+'),
    typesFilter: v(array(string), '5+'),
  }),
  response: struct({
    throttleTimeMs: v(int32, '1+'),
    errorCode: int16,
    groups: array(listedGroup),
  }),
});
