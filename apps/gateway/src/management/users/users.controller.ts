import { Body, Controller, Delete, Get, HttpCode, Param, Post } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import { ManagementApi } from '../auth/management-api.decorator';
import { CreateUserDto } from './user.dto';
import { UsersService } from './users.service';

@ApiTags('users')
@ManagementApi()
@Controller('api/v2/users')
export class UsersController {
  constructor(private readonly users: UsersService) {}

  @Post()
  create(@Body() dto: CreateUserDto) {
    return this.users.create(dto);
  }

  @Get(':id')
  get(@Param('id') userId: string) {
    return this.users.get(userId);
  }

  @Delete(':id')
  @HttpCode(204)
  async remove(@Param('id') userId: string): Promise<void> {
    await this.users.remove(userId);
  }
}
