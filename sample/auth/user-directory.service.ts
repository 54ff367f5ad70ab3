import { Inject, Injectable, type OnModuleInit } from '@nestjs/common';
import { SampleConfig } from '../sample-config.js';
import { hashPassword, verifyPassword, type PasswordHash } from './password-hash.js';

export interface SampleUser {
  username: string;
  admin: boolean;
}

/** Seeded in every tenant; each tenant keeps its own copy, so a password change stays local. */
export const DEMO_USERS = [
  { username: 'alice', password: 'alice-pass', admin: false },
  { username: 'bob', password: 'bob-pass', admin: false },
  { username: 'admin', password: 'admin-pass', admin: true },
] as const;

interface StoredUser extends SampleUser {
  password: PasswordHash;
}

/** The sample's users, in memory, per tenant. A real app would read a database here. */
@Injectable()
export class UserDirectory implements OnModuleInit {
  private readonly users = new Map<string, StoredUser>();
  /** Checked against when the user is unknown, so both answers take as long. */
  private decoy!: PasswordHash;

  constructor(@Inject(SampleConfig) private readonly config: SampleConfig) {}

  async onModuleInit(): Promise<void> {
    const tenants = [...new Set(Object.values(this.config.tenantHosts))];
    const seeding = tenants.flatMap((tenant) =>
      DEMO_USERS.map(async ({ username, password, admin }) => {
        this.users.set(key(tenant, username), {
          username,
          admin,
          password: await hashPassword(password),
        });
      }),
    );
    // scrypt runs on libuv's thread pool: hashing in parallel keeps start-up short.
    [this.decoy] = await Promise.all([hashPassword('decoy-password'), ...seeding]);
  }

  /** The user when the password matches, else `undefined` (unknown user or wrong password). */
  async authenticate(
    tenant: string,
    username: string,
    password: string,
  ): Promise<SampleUser | undefined> {
    const user = this.users.get(key(tenant, username));
    const matches = await verifyPassword(password, user?.password ?? this.decoy);
    return user && matches ? { username: user.username, admin: user.admin } : undefined;
  }

  find(tenant: string, username: string): SampleUser | undefined {
    const user = this.users.get(key(tenant, username));
    return user && { username: user.username, admin: user.admin };
  }

  async setPassword(tenant: string, username: string, password: string): Promise<void> {
    const user = this.users.get(key(tenant, username));
    if (!user) throw new Error(`No user ${username} in tenant ${tenant}`);
    user.password = await hashPassword(password);
  }
}

function key(tenant: string, username: string): string {
  return `${tenant}\u0000${username}`;
}
