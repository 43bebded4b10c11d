/**
 * The organisation every emulator starts with (unless options replace parts of
 * it): three accounts with external ids, one without, and one contact custom
 * field of every type Pylon documents, plus a read-only integration field.
 */
import type { Account, CustomFieldDefinition, Me } from '../pylon/types.js';

const CREATED = '2026-01-05T09:00:00Z';

export const DEFAULT_ACCOUNTS: Account[] = [
  {
    id: '6f1c2a8e-3b4d-4e5f-9a10-0000000000a1',
    name: 'Acme Inc',
    domain: 'acme.example',
    domains: ['acme.example'],
    primary_domain: 'acme.example',
    external_ids: [{ external_id: 'acme', label: 'crm' }],
    tags: ['enterprise'],
    type: 'customer',
    created_at: CREATED,
    updated_at: CREATED,
  },
  {
    id: '6f1c2a8e-3b4d-4e5f-9a10-0000000000b2',
    name: 'Globex Corporation',
    domain: 'globex.example',
    domains: ['globex.example'],
    primary_domain: 'globex.example',
    external_ids: [{ external_id: 'globex', label: 'crm' }],
    tags: ['mid-market'],
    type: 'customer',
    created_at: CREATED,
    updated_at: CREATED,
  },
  {
    id: '6f1c2a8e-3b4d-4e5f-9a10-0000000000c3',
    name: 'Initech',
    domain: 'initech.example',
    domains: ['initech.example'],
    primary_domain: 'initech.example',
    external_ids: [{ external_id: 'initech', label: 'crm' }],
    tags: [],
    type: 'prospect',
    created_at: CREATED,
    updated_at: CREATED,
  },
  {
    id: '6f1c2a8e-3b4d-4e5f-9a10-0000000000d4',
    name: 'Umbrella (no external id)',
    domain: 'umbrella.example',
    domains: ['umbrella.example'],
    primary_domain: 'umbrella.example',
    tags: [],
    type: 'customer',
    created_at: CREATED,
    updated_at: CREATED,
  },
];

function field(n: number, slug: string, label: string, type: string, extra: Partial<CustomFieldDefinition> = {}): CustomFieldDefinition {
  return {
    id: `c0ffee00-0000-4000-8000-${String(n).padStart(12, '0')}`,
    slug,
    label,
    type,
    object_type: 'contact',
    source: 'app',
    is_read_only: false,
    created_at: CREATED,
    updated_at: CREATED,
    ...extra,
  };
}

export const DEFAULT_CUSTOM_FIELDS: CustomFieldDefinition[] = [
  field(1, 'tier', 'Tier', 'select', {
    select_metadata: { options: [{ slug: 'gold', label: 'Gold' }, { slug: 'silver', label: 'Silver' }, { slug: 'bronze', label: 'Bronze' }] },
  }),
  field(2, 'interests', 'Interests', 'multiselect', {
    select_metadata: {
      options: [
        { slug: 'api', label: 'API' },
        { slug: 'billing', label: 'Billing' },
        { slug: 'security', label: 'Security' },
        { slug: 'mobile', label: 'Mobile' },
      ],
    },
  }),
  field(3, 'seats', 'Seats', 'number', { number_metadata: { format: 'with_commas', decimal_places: 0 } }),
  field(4, 'mrr', 'MRR', 'decimal', { number_metadata: { format: 'currency', decimal_places: 2, currency: 'USD' } }),
  field(5, 'vip', 'VIP', 'boolean'),
  field(6, 'renewal_date', 'Renewal date', 'date'),
  field(7, 'last_seen_at', 'Last seen at', 'datetime'),
  field(8, 'linkedin', 'LinkedIn', 'url'),
  field(9, 'owner', 'Owner', 'user'),
  field(10, 'notes', 'Notes', 'text', { description: 'Free-form notes' }),
  field(11, 'contact.salesforce.Contact_ID_for_Pylon__c', 'Salesforce Contact ID', 'text', {
    source: 'salesforce',
    is_read_only: true,
  }),
];

export const DEFAULT_ME: Me = {
  id: '0e0e0e0e-0000-4000-8000-00000000e0e0',
  name: 'Emulated Org',
  user: { id: '0e0e0e0e-0000-4000-8000-0000000a9100' },
};
