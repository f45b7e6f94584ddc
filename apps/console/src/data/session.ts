import type { StaffSessionResponse, StaffSignInRequest } from "@pay/core/contract";
import { useMutation, useQuery, useQueryClient, type UseMutationResult, type UseQueryResult } from "@tanstack/react-query";
import { isApiClientError } from "../api/errors.js";
import { useApi } from "./api-context.js";
import { queryKeys } from "./keys.js";

/** Who is signed in, or null when nobody is (a 401 is an answer here, not an error). Keeps the client's CSRF token in step. */
export function useSession(): UseQueryResult<StaffSessionResponse | null> {
  const api = useApi();
  return useQuery({
    queryKey: queryKeys.session,
    queryFn: async () => {
      try {
        const session = await api.call("getStaffSession", {});
        api.setCsrfToken(session.csrfToken);
        return session;
      } catch (error) {
        if (isApiClientError(error) && error.status === 401) {
          api.setCsrfToken(null);
          return null;
        }
        throw error;
      }
    },
    staleTime: 60_000,
    retry: false,
  });
}

/** Whether the caller may act (refund, replay, run reconciliation): an operator, or automation holding ADMIN_TOKEN. */
export function canOperate(session: StaffSessionResponse | null | undefined): boolean {
  return session?.actor.role === "operator";
}

export function useSignIn(): UseMutationResult<StaffSessionResponse, Error, StaffSignInRequest> {
  const api = useApi();
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: (body: StaffSignInRequest) => api.call("staffSignIn", { body }),
    onSuccess: (session) => {
      api.setCsrfToken(session.csrfToken);
      queryClient.removeQueries({ predicate: (query) => query.queryKey[0] !== queryKeys.session[0] });
      queryClient.setQueryData(queryKeys.session, session);
    },
  });
}

/** Signs out; whatever the answer, the console forgets the session and every page it loaded. */
export function useSignOut(): UseMutationResult<unknown, Error, void> {
  const api = useApi();
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: () => api.call("staffSignOut", {}),
    onSettled: () => {
      api.setCsrfToken(null);
      queryClient.removeQueries({ predicate: (query) => query.queryKey[0] !== queryKeys.session[0] });
      queryClient.setQueryData(queryKeys.session, null);
    },
  });
}
