import { Body, Controller, Delete, Get, HttpCode, Param, Post, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiTags } from '@nestjs/swagger';
import { ManagementTokenGuard } from '../auth/management-token.guard';
import { CreateUserDto } from './user.dto';
import { UsersService } from './users.service';

@ApiTags('users')
@ApiBearerAuth()
@UseGuards(ManagementTokenGuard)
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
