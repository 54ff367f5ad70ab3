import { SetMetadata } from '@nestjs/common';

export const IS_PUBLIC = 'tenant-session:public';

/** Opens a route or controller to anonymous visitors when SessionAuthGuard is applied globally. */
export const Public = (): MethodDecorator & ClassDecorator => SetMetadata(IS_PUBLIC, true);
