/**
 * TEST SUPPORT: the config rules with every check that would refuse a hostile value turned off, for
 * tests of the writer itself (what reaches the HCL when a value got past validation):
 *
 *     jest.mock("../src/config/rules", () =>
 *       (jest.requireActual("./support/unchecked-rules") as typeof import("./support/unchecked-rules")).uncheckedRules(),
 *     );
 *
 * The role's trust policy is still built as the unmocked check builds it (the construct writes that one).
 */
import type * as Rules from "../../src/config/rules";

export function uncheckedRules(): typeof Rules {
  const actual = jest.requireActual<typeof Rules>("../../src/config/rules");
  return {
    ...actual,
    checkRole: () => [],
    checkRoleAndTrust: (role, context) => ({
      problems: [],
      trustPolicy: actual.roleTrustPolicy(role, context),
    }),
    checkAccountFields: () => [],
    checkAudienceList: () => [],
  };
}
