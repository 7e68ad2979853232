// DeleteGroups (key 42), versions 0-2, flexible from 2.
// Deletes empty groups and their committed offsets. Errors per group: NON_EMPTY_GROUP 68,
// GROUP_ID_NOT_FOUND 69, NOT_COORDINATOR 16. (v3 adds a per-group error message; not served.)

import { api, array, int16, int32, string, struct } from '../schema';

export const DeleteGroups = api({
  key: 42,
  name: 'DeleteGroups',
  minVersion: 0,
  maxVersion: 2,
  flexibleFrom: 2,
  request: struct({
    groupsNames: array(string),
  }),
  response: struct({
    throttleTimeMs: int32,
    results: array(struct({ groupId: string, errorCode: int16 })),
  }),
});
