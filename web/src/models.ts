// Shapes the GraphQL API answers that more than one page reads.

export interface LearnerSummary {
  id: string;
  email: string;
  name: string | null;
  externalId: string | null;
  createdAt: string;
}
